/** Detail types on the Telltale bus (source `telltale`). Each context publishes its own; others listen. */
export const detailTypes = {
  dataProcessed: 'data.processed',
  pipelineFailed: 'pipeline.failed',
  anomalyDetected: 'anomaly.detected',
  /** An anomaly episode opened (sensors context, streaming scorer); the detail is the episode with its tenant. */
  anomalyOpened: 'anomaly.opened',
  /** An anomaly episode closed after its quiet period. */
  anomalyClosed: 'anomaly.closed',
  /** An operator's verdict on an episode (sensors context, PATCH /anomalies/{id}); the ml context keeps it as a label. */
  anomalyReviewed: 'anomaly.reviewed',
  driftDetected: 'drift.detected',
  /**
   * A drifted model's recent readings match its training reference again. Both drift events come
   * from the monitoring context's scheduled drift check (shared/monitoring/driftEvents.ts has their shapes).
   */
  driftResolved: 'drift.resolved',
  modelRegistered: 'model.registered',
  /** An alert rule fired (monitoring context); the detail names the rule, the alert and its subject. */
  alertFired: 'alert.fired',
  /** A notification of an alert gave up after its retries (its message went to the dead-letter queue). */
  alertDeliveryFailed: 'alert.delivery.failed',
} as const;
export type DetailType = (typeof detailTypes)[keyof typeof detailTypes];

/** The port to publish domain events; shared/aws has the EventBridge adapter. */
export interface EventPublisher {
  publish(detailType: DetailType, detail: Record<string, unknown>): Promise<void>;
}
