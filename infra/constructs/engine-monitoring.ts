/**
 * The operator's view: a dashboard whose first row answers "how many callbacks are we waiting for,
 * and for which batches", then callback flow, queues, dead letters, function health and outcomes;
 * plus the alarms that catch a stranded batch. Metric names are the contract of
 * shared/runtime/observability.ts (namespace CjEngine, no dimensions unless stated).
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryVisualizationType,
  LogQueryWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Resolution of the engine's own metrics (the sweeper publishes the gauge once a minute). */
const ONE_MINUTE = Duration.minutes(1);
/** Window of the Lambda error alarms: one failed invocation in it is worth a look. */
const ERROR_WINDOW = Duration.minutes(5);
const FULL_WIDTH = 24;
const WIDGET_HEIGHT = 6;

/** Latest counters of every batch seen in the window, batches with callbacks pending first. */
export const PENDING_BY_BATCH_QUERY = [
  'fields @timestamp, batch_id, pending_callbacks',
  '| filter message = "gate_evaluation"',
  '| stats latest(pending_callbacks) as pending, latest(submitted_comparisons) as submitted,' +
    ' latest(completed_comparisons) as completed, latest(failed_comparisons) as failed,' +
    ' latest(decision) as decision, max(@timestamp) as last_evaluated by batch_id',
  '| sort pending desc, last_evaluated desc',
  '| limit 100',
].join('\n');

export interface MonitoredQueue {
  readonly label: string;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

export interface MonitoredFunction {
  readonly label: string;
  readonly fn: IFunction;
}

export interface EngineMonitoringProps {
  readonly dashboardName: string;
  /** Prefix of every alarm name (the stack name), so alarms of two stages never collide. */
  readonly alarmPrefix: string;
  readonly namespace: string;
  /** Log group names of the functions that evaluate the gate (their `gate_evaluation` lines). */
  readonly gateLogGroupNames: readonly string[];
  readonly queues: readonly MonitoredQueue[];
  readonly callbackQueue: IQueue;
  readonly functions: readonly MonitoredFunction[];
  /** The comparison deadline: no callback for this long means a comparison is overdue. */
  readonly deadline: Duration;
  /**
   * The longest a provider batch part may stay open: the providers' 24-hour completion window plus
   * the deadline margin (PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS). Older means its collection is stuck.
   */
  readonly providerBatchMaxAge: Duration;
}

export class EngineMonitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: EngineMonitoringProps) {
    super(scope, id);
    const engineMetric = (metricName: string, statistic: string, label?: string): Metric =>
      new Metric({
        namespace: props.namespace,
        metricName,
        statistic,
        period: ONE_MINUTE,
        ...(label ? { label } : {}),
      });
    const searchByDimension = (metricName: string, dimension: string, label: string) =>
      new MathExpression({
        expression: `SEARCH('{${props.namespace},${dimension}} MetricName="${metricName}"', 'Sum', 300)`,
        usingMetrics: {},
        label,
        period: Duration.minutes(5),
      });

    const pendingCallbacks = engineMetric('PendingCallbacks', 'Maximum', 'Pending callbacks');
    const pendingInProviderBatches = engineMetric(
      'PendingProviderBatchCallbacks',
      'Maximum',
      'Pending in provider batches',
    );
    const providerBatchesInFlight = engineMetric(
      'ProviderBatchesInFlight',
      'Maximum',
      'Provider batches in flight',
    );
    const oldestProviderBatch = engineMetric(
      'ProviderBatchOldestAgeSeconds',
      'Maximum',
      'Oldest provider batch (s)',
    );
    const callbacksReceived = engineMetric('CallbacksReceived', 'Sum', 'Received');

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });

    // Row 1: pending callbacks, in total and per batch.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Pending callbacks (total)',
        left: [pendingCallbacks],
        leftYAxis: { min: 0 },
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new LogQueryWidget({
        title: 'Pending callbacks per active batch',
        logGroupNames: [...props.gateLogGroupNames],
        queryString: PENDING_BY_BATCH_QUERY,
        view: LogQueryVisualizationType.TABLE,
        width: FULL_WIDTH - 8,
        height: WIDGET_HEIGHT,
      }),
    );
    // Row 2: callback flow.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Callbacks received / failed',
        left: [
          callbacksReceived,
          engineMetric('CallbacksFailed', 'Sum', 'Failed'),
          engineMetric('LateCallbacks', 'Sum', 'Late'),
        ],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Duplicate callbacks detected',
        left: [engineMetric('DuplicateCallbacks', 'Sum', 'Duplicates')],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Comparisons submitted / timed out',
        left: [
          engineMetric('ComparisonsSubmitted', 'Sum', 'Submitted'),
          engineMetric('ComparisonsTimedOut', 'Sum', 'Timed out'),
        ],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
    );
    // Row 3: queues and dead letters.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue depth (visible messages)',
        left: props.queues.map(({ label, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: ONE_MINUTE,
            statistic: 'Maximum',
            label,
          }),
        ),
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Age of oldest message (seconds)',
        left: props.queues.map(({ label, queue }) =>
          queue.metricApproximateAgeOfOldestMessage({
            period: ONE_MINUTE,
            statistic: 'Maximum',
            label,
          }),
        ),
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: props.queues.map(({ label, deadLetterQueue }) =>
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: ONE_MINUTE,
            statistic: 'Maximum',
            label: `${label} DLQ`,
          }),
        ),
        width: 8,
        height: WIDGET_HEIGHT,
      }),
    );
    // Row 4: function health.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Lambda errors',
        left: props.functions.map(({ label, fn }) =>
          fn.metricErrors({ period: ONE_MINUTE, statistic: 'Sum', label }),
        ),
        width: FULL_WIDTH / 2,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Lambda throttles',
        left: props.functions.map(({ label, fn }) =>
          fn.metricThrottles({ period: ONE_MINUTE, statistic: 'Sum', label }),
        ),
        width: FULL_WIDTH / 2,
        height: WIDGET_HEIGHT,
      }),
    );
    // Row 5: outcomes and bad input.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Batches finalized by outcome',
        left: [searchByDimension('BatchesFinalized', 'Outcome', 'Finalized')],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Malformed messages by function',
        left: [searchByDimension('MalformedMessages', 'FunctionName', 'Malformed')],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Continuation runs and failed steps',
        left: [
          engineMetric('ContinuationRuns', 'Sum', 'Runs'),
          engineMetric('ContinuationFailures', 'Sum', 'Failed steps'),
        ],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
    );
    // Row 6: provider batches (judge.mode provider_batch): what is in flight at the providers.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Provider batches in flight / callbacks they hold',
        left: [providerBatchesInFlight],
        right: [pendingInProviderBatches],
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Oldest open provider batch (seconds)',
        left: [oldestProviderBatch],
        leftAnnotations: [
          { value: props.providerBatchMaxAge.toSeconds(), label: 'window + margin' },
        ],
        leftYAxis: { min: 0 },
        width: 8,
        height: WIDGET_HEIGHT,
      }),
      new GraphWidget({
        title: 'Provider batches submitted / collected',
        left: [
          engineMetric('ProviderBatchesSubmitted', 'Sum', 'Submitted'),
          engineMetric('ProviderBatchesCollected', 'Sum', 'Collected'),
        ],
        width: 8,
        height: WIDGET_HEIGHT,
      }),
    );

    this.addDeadLetterAlarms(props);
    this.addOldestCallbackAlarm(props);
    this.addErrorAlarms(props);
    this.addStuckPendingAlarm(props, pendingCallbacks, pendingInProviderBatches, callbacksReceived);
    // The alarm watches the plain metric: a labelled one renders as a metric query instead.
    this.addOldestProviderBatchAlarm(
      props,
      engineMetric('ProviderBatchOldestAgeSeconds', 'Maximum'),
    );
  }

  private addAlarm(id: string, alarm: AlarmProps): Alarm {
    const created = new Alarm(this, id, alarm);
    this.alarms.push(created);
    return created;
  }

  private addDeadLetterAlarms(props: EngineMonitoringProps): void {
    for (const { label, deadLetterQueue } of props.queues) {
      this.addAlarm(`${label}DeadLetters`, {
        alarmName: `${props.alarmPrefix}-${label}-dlq-not-empty`,
        alarmDescription: `The ${label} dead-letter queue holds messages: inspect and redrive them.`,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: ONE_MINUTE,
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
  }

  private addOldestCallbackAlarm(props: EngineMonitoringProps): void {
    this.addAlarm('OldestCallback', {
      alarmName: `${props.alarmPrefix}-callback-older-than-deadline`,
      alarmDescription: `A callback has waited longer than the comparison deadline (${props.deadline.toSeconds()} s) to be recorded: its comparison will be timed out although it was answered.`,
      metric: props.callbackQueue.metricApproximateAgeOfOldestMessage({
        period: ONE_MINUTE,
        statistic: 'Maximum',
      }),
      threshold: props.deadline.toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private addErrorAlarms(props: EngineMonitoringProps): void {
    for (const { label, fn } of props.functions) {
      this.addAlarm(`${label}Errors`, {
        alarmName: `${props.alarmPrefix}-${label}-errors`,
        alarmDescription: `The ${label} function failed at least once in ${ERROR_WINDOW.toMinutes()} minutes.`,
        metric: fn.metricErrors({ period: ERROR_WINDOW, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /**
   * A provider batch part open longer than the provider's window plus the margin: the provider
   * should have ended it (expired) and the collector collected it; the provider-batches function is
   * failing or the provider is stuck.
   */
  private addOldestProviderBatchAlarm(props: EngineMonitoringProps, oldest: IMetric): void {
    this.addAlarm('OldestProviderBatch', {
      alarmName: `${props.alarmPrefix}-provider-batch-older-than-window`,
      alarmDescription: `A provider batch part has been open longer than the providers' window plus margin (${props.providerBatchMaxAge.toSeconds()} s): its results are not being collected.`,
      metric: oldest,
      threshold: props.providerBatchMaxAge.toSeconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Callbacks are pending yet none has arrived for a whole deadline: some batch is stranded (or the
   * judge or callback path is down). Evaluated minute by minute over the deadline window, from the
   * sweeper's total gauge and the callback counter; a minute without a callback counts as zero.
   * Callbacks held by provider batches are expected to wait hours and are left out (their own
   * alarm is the oldest provider batch's age).
   */
  private addStuckPendingAlarm(
    props: EngineMonitoringProps,
    pendingCallbacks: IMetric,
    pendingInProviderBatches: IMetric,
    callbacksReceived: IMetric,
  ): void {
    const windowMinutes = Math.max(1, Math.ceil(props.deadline.toSeconds() / 60));
    this.addAlarm('StuckPendingCallbacks', {
      alarmName: `${props.alarmPrefix}-pending-callbacks-stuck`,
      alarmDescription: `Callbacks have been pending with none received for ${windowMinutes} minutes (the comparison deadline): a batch is not progressing.`,
      metric: new MathExpression({
        expression: 'IF(pending - FILL(batched, 0) > 0 AND FILL(received, 0) == 0, 1, 0)',
        usingMetrics: {
          pending: pendingCallbacks,
          batched: pendingInProviderBatches,
          received: callbacksReceived,
        },
        period: ONE_MINUTE,
        label: 'Pending with no callback',
      }),
      threshold: 1,
      evaluationPeriods: windowMinutes,
      datapointsToAlarm: windowMinutes,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
