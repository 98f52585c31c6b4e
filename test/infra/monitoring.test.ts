import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  buildTestStack,
  type DashboardWidgetJson,
  dashboardWidgets,
  HANDLER_COUNT,
  resourcesOfType,
  SYNTH_TIMEOUT_MS,
  type TestStack,
} from '#test/helpers/cdk-stack.ts';

const PREFIX = 'CjEngine-test';

let built: TestStack;
let widgets: DashboardWidgetJson[];
beforeAll(() => {
  built = buildTestStack();
  widgets = dashboardWidgets(built.template);
}, SYNTH_TIMEOUT_MS);

function widget(title: string): DashboardWidgetJson {
  const found = widgets.find((candidate) => candidate.properties.title === title);
  if (!found) throw new Error(`no widget titled "${title}"`);
  return found;
}

function alarmNamed(suffix: string): Record<string, unknown> {
  const found = resourcesOfType(built.template, 'AWS::CloudWatch::Alarm').find(
    ([, props]) => props.AlarmName === `${PREFIX}-${suffix}`,
  );
  if (!found) throw new Error(`no alarm ${PREFIX}-${suffix}`);
  return found[1];
}

describe('dashboard', () => {
  it('is named after the stack', () => {
    // Prepare
    const expected = { DashboardName: PREFIX };

    // Act
    const act = () => built.template.hasResourceProperties('AWS::CloudWatch::Dashboard', expected);

    // Assess
    expect(act).not.toThrow();
  });

  it('shows pending callbacks in total and per batch on its first row', () => {
    // Prepare
    const firstRow = widgets.filter((candidate) => candidate.y === 0);

    // Act
    const titles = firstRow.map((candidate) => candidate.properties.title);

    // Assess
    expect(titles).toEqual(['Pending callbacks (total)', 'Pending callbacks per active batch']);
  });

  it('plots the CjEngine PendingCallbacks metric in the total widget', () => {
    // Prepare
    const total = widget('Pending callbacks (total)');

    // Act
    const metrics = total.properties.metrics ?? [];

    // Assess
    expect(metrics).toHaveLength(1);
    expect(metrics[0]?.slice(0, 2)).toEqual(['CjEngine', 'PendingCallbacks']);
  });

  it('queries the latest pending_callbacks of each batch from the gate_evaluation lines', () => {
    // Prepare
    const perBatch = widget('Pending callbacks per active batch');

    // Act
    const query = perBatch.properties.query ?? '';

    // Assess
    expect(perBatch.type).toBe('log');
    expect(query).toContain('filter message = "gate_evaluation"');
    expect(query).toContain('latest(pending_callbacks)');
    expect(query).toContain('by batch_id');
    // The gate runs in the callback, continuation and sweeper functions: all three are searched.
    for (const name of ['callback', 'continuation', 'sweeper']) {
      expect(query).toContain(`SOURCE '/aws/lambda/${PREFIX}-${name}'`);
    }
  });

  it('follows with callbacks, queues, dead letters, function health and outcomes', () => {
    // Prepare
    const expectedTitles = [
      'Callbacks received / failed',
      'Duplicate callbacks detected',
      'Queue depth (visible messages)',
      'Age of oldest message (seconds)',
      'Dead-letter queue depth',
      'Lambda errors',
      'Lambda throttles',
      'Batches finalized by outcome',
      'Provider batches in flight / callbacks they hold',
      'Oldest open provider batch (seconds)',
      'Provider batches submitted / collected',
    ];

    // Act
    const rows = expectedTitles.map((title) => widget(title).y);

    // Assess
    for (const row of rows) expect(row).toBeGreaterThan(0);
    expect(JSON.stringify(widget('Callbacks received / failed').properties.metrics)).toContain(
      'CallbacksFailed',
    );
    expect(JSON.stringify(widget('Batches finalized by outcome').properties.metrics)).toContain(
      '{CjEngine,Outcome} MetricName=\\"BatchesFinalized\\"',
    );
    expect(widget('Dead-letter queue depth').properties.metrics).toHaveLength(3);
    expect(widget('Lambda errors').properties.metrics).toHaveLength(HANDLER_COUNT);
    expect(
      JSON.stringify(widget('Provider batches in flight / callbacks they hold').properties.metrics),
    ).toContain('ProviderBatchesInFlight');
    expect(
      JSON.stringify(widget('Oldest open provider batch (seconds)').properties.metrics),
    ).toContain('ProviderBatchOldestAgeSeconds');
  });
});

describe('alarms', () => {
  it('alarm when any dead-letter queue holds a message', () => {
    // Prepare
    const names = ['comparison', 'callback', 'continuation'].map((q) => `${q}-dlq-not-empty`);

    // Act
    const alarms = names.map(alarmNamed);

    // Assess
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('alarm when the oldest callback is older than the comparison deadline', () => {
    // Prepare
    const shortDeadline = buildTestStack({ context: { comparisonDeadlineSeconds: 300 } });

    // Act
    const defaultAlarm = alarmNamed('callback-older-than-deadline');
    const custom = resourcesOfType(shortDeadline.template, 'AWS::CloudWatch::Alarm').find(
      ([, props]) => props.AlarmName === `${PREFIX}-callback-older-than-deadline`,
    )?.[1];

    // Assess
    expect(defaultAlarm).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(custom?.Threshold).toBe(300);
  });

  it('alarm on errors of every function', () => {
    // Prepare
    const functionNames = resourcesOfType(built.template, 'AWS::Lambda::Function').map(
      ([, props]) => String(props.FunctionName).slice(PREFIX.length + 1),
    );

    // Act
    const alarms = functionNames.map((name) => alarmNamed(`${name}-errors`));

    // Assess
    expect(alarms).toHaveLength(HANDLER_COUNT);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
    }
  });

  it('alarm when callbacks stay pending with none received for the whole deadline', () => {
    // Prepare
    const alarm = alarmNamed('pending-callbacks-stuck');

    // Act
    const metrics = alarm.Metrics as Array<Record<string, unknown>>;
    const expression = metrics.find((metric) => metric.Expression !== undefined);
    const metricNames = metrics
      .map((metric) => (metric.MetricStat as { Metric?: { MetricName: string } })?.Metric)
      .filter((metric) => metric !== undefined)
      .map((metric) => metric.MetricName);

    // Assess
    expect(expression?.Expression).toBe(
      'IF(pending - FILL(batched, 0) > 0 AND FILL(received, 0) == 0, 1, 0)',
    );
    expect(metricNames.sort()).toEqual([
      'CallbacksReceived',
      'PendingCallbacks',
      'PendingProviderBatchCallbacks',
    ]);
    expect(alarm).toMatchObject({
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarm when a provider batch stays open past the providers window plus the margin', () => {
    // Prepare
    const expected = 24 * 3600 + DEFAULT_CONFIG.PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS;

    // Act
    const alarm = alarmNamed('provider-batch-older-than-window');

    // Assess
    expect(alarm).toMatchObject({
      MetricName: 'ProviderBatchOldestAgeSeconds',
      Namespace: 'CjEngine',
      Statistic: 'Maximum',
      Threshold: expected,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});
