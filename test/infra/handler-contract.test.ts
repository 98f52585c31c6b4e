/**
 * The stack gives each function what its composition root reads: every root (`lambdas/<fn>/deps.ts`)
 * is built with exactly the environment the template sets for that function, and must not fail.
 * Removing any one of those variables must make it fail naming the variable, so the check is real.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  buildTestStack,
  HANDLER_COUNT,
  PROJECT_ROOT,
  resourcesOfType,
  SYNTH_TIMEOUT_MS,
  type TestStack,
} from '#test/helpers/cdk-stack.ts';

const PREFIX = 'CjEngine-test';
/** Variables read at cold start by Lambda's own runtime, not by our code. */
const PLATFORM_ENV = { AWS_REGION: 'eu-west-1' };

let built: TestStack;
beforeAll(() => {
  built = buildTestStack();
}, SYNTH_TIMEOUT_MS);

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Each function's environment variable names, as the template sets them. */
function templateEnvironments(): Array<{ name: string; variables: string[] }> {
  return resourcesOfType(built.template, 'AWS::Lambda::Function').map(([, props]) => ({
    name: String(props.FunctionName).slice(PREFIX.length + 1),
    variables: Object.keys(
      (props.Environment as { Variables: Record<string, unknown> }).Variables,
    ).filter((variable) => !variable.startsWith('AWS_') && variable !== 'NODE_OPTIONS'),
  }));
}

/** Builds a function's composition root in a fresh module graph with only `variables` set. */
async function buildRoot(functionName: string, variables: readonly string[]): Promise<unknown> {
  vi.resetModules();
  for (const [name, value] of Object.entries(PLATFORM_ENV)) vi.stubEnv(name, value);
  for (const name of [
    'TABLE_NAME',
    'ALLOWED_PROVIDERS',
    'COMPARISON_QUEUE_URL',
    'CALLBACK_QUEUE_URL',
    'CONTINUATION_QUEUE_URL',
    'EVENT_BUS_NAME',
    'PROVIDER_RATE_LIMITS',
    'JUDGE_ENDPOINTS',
    'JUDGE_BATCH_ENDPOINTS',
  ]) {
    const json = name === 'PROVIDER_RATE_LIMITS' || name === 'JUDGE_ENDPOINTS';
    const value =
      name === 'JUDGE_BATCH_ENDPOINTS' ? '[]' : json ? '{}' : `test-${name.toLowerCase()}`;
    vi.stubEnv(name, variables.includes(name) ? value : undefined);
  }
  const root = (await import(path.join(PROJECT_ROOT, 'lambdas', functionName, 'deps.ts'))) as {
    deps: () => unknown;
  };
  return root.deps();
}

const hasRoot = (name: string) => existsSync(path.join(PROJECT_ROOT, 'lambdas', name, 'deps.ts'));

describe('the stack gives each composition root what it reads', () => {
  it('builds every root with exactly the environment its function gets', async () => {
    // Prepare
    const functions = templateEnvironments().filter(({ name }) => hasRoot(name));

    // Act
    const failures: string[] = [];
    for (const { name, variables } of functions) {
      await buildRoot(name, variables).catch((error: Error) => {
        failures.push(`${name}: ${error.message}`);
      });
    }

    // Assess: every function but admin-mock-mode (which reads ALLOWED_PROVIDERS per request).
    expect(templateEnvironments()).toHaveLength(HANDLER_COUNT);
    expect(functions).toHaveLength(HANDLER_COUNT - 1);
    expect(failures).toEqual([]);
  });

  it('fails a root naming the variable when the stack does not set one it reads', async () => {
    // Prepare
    const functions = templateEnvironments().filter(({ name }) => hasRoot(name));

    // Act: drop each variable in turn; the root must fail on the ones it reads.
    const named: string[] = [];
    for (const { name, variables } of functions) {
      for (const dropped of variables) {
        const rest = variables.filter((variable) => variable !== dropped);
        await buildRoot(name, rest).catch((error: Error) => {
          if (error.message.includes(dropped)) named.push(`${name}: ${dropped}`);
        });
      }
    }

    // Assess: each consumer reads its table and its destinations.
    expect(named).toEqual(
      expect.arrayContaining([
        'judge: TABLE_NAME',
        'judge: CALLBACK_QUEUE_URL',
        'callback: CONTINUATION_QUEUE_URL',
        'continuation: COMPARISON_QUEUE_URL',
        'continuation: EVENT_BUS_NAME',
        'sweeper: CONTINUATION_QUEUE_URL',
        'provider-batches: TABLE_NAME',
        'provider-batches: CALLBACK_QUEUE_URL',
        'cancel-batch: EVENT_BUS_NAME',
        'get-batch: TABLE_NAME',
      ]),
    );
  });
});
