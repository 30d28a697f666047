/** Detail types on the Telltale bus (source `telltale`). Each context publishes its own; others listen. */
export const detailTypes = {
  dataProcessed: 'data.processed',
  pipelineFailed: 'pipeline.failed',
  anomalyDetected: 'anomaly.detected',
  driftDetected: 'drift.detected',
  modelRegistered: 'model.registered',
} as const;
export type DetailType = (typeof detailTypes)[keyof typeof detailTypes];

/** The port to publish domain events; shared/aws has the EventBridge adapter. */
export interface EventPublisher {
  publish(detailType: DetailType, detail: Record<string, unknown>): Promise<void>;
}
