/**
 * Production parity of the local cloud: the functions run on Lambda's Node major.
 */
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '#infra/functions.ts';
import { functionLogLines, integrationTarget } from '#test/helpers/integration-target.ts';

/** Lambda's runtime of every function (infra/constructs/engine-function.ts: nodejs22.x). */
const LAMBDA_NODE_MAJOR = 'v22.';

describe('the local cloud runs the functions as Lambda does', () => {
  it('on Node 22: every function reports it at init and the status reports it', async () => {
    // Prepare
    const target = await integrationTarget();
    if (target.kind !== 'local') return; // LocalStack runs its own Lambda runtime images.

    // Act
    const inits = FUNCTIONS.map((spec) => ({
      name: spec.name,
      lines: functionLogLines(target, spec.name, 'INIT_START'),
    }));

    // Assess
    expect(target.functionNode?.startsWith(LAMBDA_NODE_MAJOR)).toBe(true);
    for (const { name, lines } of inits) {
      expect(lines.length, `${name} INIT_START lines`).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line, name).toMatchObject({ runtime: 'nodejs22.x', node: target.functionNode });
      }
    }
  });
});
