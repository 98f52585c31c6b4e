/**
 * Logger and metrics singletons (module scope, reused across invocations of a warm Lambda).
 * Metrics go out in embedded metric format, namespace `CjEngine`, with no dimensions unless a
 * metric states one (the Powertools `service` default dimension is cleared so dashboards and alarms
 * can address the metrics by name alone).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME ?? 'cj-engine';
const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CjEngine';

export const logger = new Logger({ serviceName: SERVICE_NAME });

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
metrics.clearDefaultDimensions();

/** Every metric name the functions emit (the dashboard and alarms use the same names). */
export const MetricName = {
  CallbacksReceived: 'CallbacksReceived',
  CallbacksFailed: 'CallbacksFailed',
  DuplicateCallbacks: 'DuplicateCallbacks',
  LateCallbacks: 'LateCallbacks',
  ComparisonsSubmitted: 'ComparisonsSubmitted',
  ComparisonsTimedOut: 'ComparisonsTimedOut',
  PendingCallbacks: 'PendingCallbacks',
  BatchesFinalized: 'BatchesFinalized',
  MalformedMessages: 'MalformedMessages',
  ContinuationRuns: 'ContinuationRuns',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** The narrow view of logging and metrics the workflow needs; tests pass spies or the singletons. */
export interface Telemetry {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  count(name: MetricName, value?: number): void;
  gauge(name: MetricName, value: number): void;
  /** A count with one dimension, published on its own so it does not tag the other metrics. */
  countWithDimension(name: MetricName, dimension: string, value: string, count?: number): void;
}

export const telemetry: Telemetry = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
  count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
  gauge: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
  countWithDimension: (name, dimension, value, count = 1) => {
    const single = metrics.singleMetric();
    single.clearDefaultDimensions();
    single.addDimension(dimension, value);
    single.addMetric(name, MetricUnit.Count, count);
  },
};
