import { Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildTestStack, SYNTH_TIMEOUT_MS } from '#test/helpers/cdk-stack.ts';

/** Every acknowledgement recorded in the construct tree: rule id → reasons. */
function acknowledgements(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        const id = key.replace(/^annotation::/i, '');
        found.set(id, [...(found.get(id) ?? []), reason]);
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions checks', () => {
  it(
    'find no unacknowledged violation in the default stack',
    () => {
      // Prepare
      const { app } = buildTestStack();

      // Act
      const report = new AwsSolutionsChecks(app).validateScope(app);

      // Assess
      expect(report.violations).toEqual([]);
      expect(report.success).toBe(true);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'find no unacknowledged violation with provider secrets and prod settings',
    () => {
      // Prepare
      const { app } = buildTestStack({
        context: {
          stage: 'prod',
          allowedProviders: 'mock,openai,anthropic',
          providerSecrets: 'openai=cj/openai,anthropic=cj/anthropic',
        },
      });

      // Act
      const report = new AwsSolutionsChecks(app).validateScope(app);

      // Assess
      expect(report.violations).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'acknowledge only the known exceptions, each with a specific reason',
    () => {
      // Prepare
      const { app } = buildTestStack({
        context: { allowedProviders: 'openai', providerSecrets: 'openai=cj/openai' },
      });

      // Act
      const acknowledged = acknowledgements(app);

      // Assess
      expect([...acknowledged.keys()].sort()).toEqual([
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:cj/openai-??????]',
        'AwsSolutions-L1',
      ]);
      for (const reasons of acknowledged.values()) {
        for (const reason of reasons) expect(reason.length).toBeGreaterThan(60);
      }
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'report a wildcard data action that nobody acknowledged',
    () => {
      // Prepare
      const { app, stack } = buildTestStack();
      stack
        .fn('judge')
        .role.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['dynamodb:*'], resources: [stack.table.tableArn] }),
        );

      // Act
      const report = new AwsSolutionsChecks(app).validateScope(app);

      // Assess
      expect(report.success).toBe(false);
      expect(report.violations.map((violation) => violation.ruleName)).toEqual([
        'AwsSolutions-IAM5[Action::dynamodb:*]',
      ]);
    },
    SYNTH_TIMEOUT_MS,
  );
});
