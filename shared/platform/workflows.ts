/** The port to start a state machine run; shared/aws has the Step Functions adapter. */
export interface WorkflowStarter {
  /**
   * Starts a run named `name`. Names are deterministic, so a retried or redelivered trigger
   * finds the run already there: 'duplicate', and nothing new starts.
   */
  start(name: string, input: Record<string, unknown>): Promise<'started' | 'duplicate'>;
}
