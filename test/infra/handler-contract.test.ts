import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestStack,
  PROJECT_ROOT,
  resourcesOfType,
  SYNTH_TIMEOUT_MS,
  type TestStack,
} from '#test/helpers/cdk-stack.ts';

const PREFIX = 'CjEngine-test';
/** Variables every store-backed function reads (shared/runtime/deps.ts reads TABLE_NAME always). */
const STORE_ENV = ['TABLE_NAME'];

let built: TestStack;
beforeAll(() => {
  built = buildTestStack();
}, SYNTH_TIMEOUT_MS);

/** Variables a handler asks for: `lazyDeps([...])` (plus the store's) or `readEnv([...])`. */
function variablesReadBy(functionName: string): string[] {
  const source = readFileSync(
    path.join(PROJECT_ROOT, 'lambdas', functionName, 'handler.ts'),
    'utf8',
  );
  const lists = [...source.matchAll(/(lazyDeps|readEnv)\(\[([^\]]*)\]\)/g)];
  return lists.flatMap(([, kind, list]) => [
    ...(kind === 'lazyDeps' ? STORE_ENV : []),
    ...[...(list ?? '').matchAll(/'([A-Z_]+)'/g)].map(([, name]) => name ?? ''),
  ]);
}

describe('the stack gives each handler what its code reads', () => {
  it('sets every variable each deployed handler asks for', () => {
    // Prepare
    const functions = resourcesOfType(built.template, 'AWS::Lambda::Function');

    // Act
    const missing = functions.flatMap(([, props]) => {
      const name = String(props.FunctionName).slice(PREFIX.length + 1);
      const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      return variablesReadBy(name)
        .filter((variable) => env[variable] === undefined)
        .map((variable) => `${name}: ${variable}`);
    });

    // Assess
    expect(functions).toHaveLength(11);
    expect(missing).toEqual([]);
  });

  it('finds the variable lists in the handler sources it checks', () => {
    // Prepare
    const consumers = ['judge', 'callback', 'continuation', 'sweeper'];

    // Act
    const read = consumers.map(variablesReadBy);

    // Assess
    for (const variables of read) expect(variables).toContain('TABLE_NAME');
    expect(read[0]).toContain('CALLBACK_QUEUE_URL');
  });
});
