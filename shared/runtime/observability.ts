/**
 * Logger and metrics singletons (module scope, reused across invocations of a warm Lambda).
 * Metrics go out in embedded metric format, namespace `CjEngine`, with no dimensions unless a
 * metric states one (the Powertools `service` default dimension is cleared so dashboards and alarms
 * can address the metrics by name alone).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Telemetry } from '#shared/workflow/telemetry.ts';

const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME ?? 'cj-engine';
const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CjEngine';

export const logger = new Logger({ serviceName: SERVICE_NAME });

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
metrics.clearDefaultDimensions();

/** The workflow's telemetry port on Powertools. */
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
