/**
 * What the workflow reports, as a port: the metric names it emits (the dashboard and alarms use the
 * same names) and the narrow view of logging and metrics it needs. The runtime implements it with
 * Powertools (`#shared/runtime/observability.ts`); tests pass a recording fake.
 */

/** Every metric name the functions emit. */
export const MetricName = {
  CallbacksReceived: 'CallbacksReceived',
  CallbacksFailed: 'CallbacksFailed',
  DuplicateCallbacks: 'DuplicateCallbacks',
  LateCallbacks: 'LateCallbacks',
  ComparisonsSubmitted: 'ComparisonsSubmitted',
  ComparisonsTimedOut: 'ComparisonsTimedOut',
  PendingCallbacks: 'PendingCallbacks',
  PendingProviderBatchCallbacks: 'PendingProviderBatchCallbacks',
  BatchesFinalized: 'BatchesFinalized',
  MalformedMessages: 'MalformedMessages',
  ContinuationRuns: 'ContinuationRuns',
  /** Continuation steps that threw (counted on the batch; MAX_CONTINUATION_FAILURES ends it). */
  ContinuationFailures: 'ContinuationFailures',
  ProviderBatchesInFlight: 'ProviderBatchesInFlight',
  ProviderBatchOldestAgeSeconds: 'ProviderBatchOldestAgeSeconds',
  ProviderBatchesSubmitted: 'ProviderBatchesSubmitted',
  ProviderBatchesCollected: 'ProviderBatchesCollected',
  /** Comparison requests the judge re-sent with a delay: the shared rate limiter had no slot soon. */
  JudgeRequestsDeferred: 'JudgeRequestsDeferred',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export interface Telemetry {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  count(name: MetricName, value?: number): void;
  gauge(name: MetricName, value: number): void;
  /** A count with one dimension, published on its own so it does not tag the other metrics. */
  countWithDimension(name: MetricName, dimension: string, value: string, count?: number): void;
}
