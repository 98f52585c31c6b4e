/**
 * The deployment maxima (docs/deploy.md, "Deployment settings and maxima"): essays per batch,
 * characters per essay and the budget. Over a maximum is a 400 naming the field, inline and on the
 * paged upload path, and nothing is stored or triggered; the default budget is cut to the maximum.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { addEssays, createBatch } from '#shared/workflow/api.ts';
import type { DeploymentLimits } from '#shared/workflow/limits.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { httpFailureOf } from '#test/helpers/http-failure.ts';
import { createPipeline, testEssays } from '#test/helpers/pipeline.ts';

const LIMITS: DeploymentLimits = {
  maxEssaysPerBatch: 5,
  maxEssayChars: 100,
  maxBudgetPerBatch: 30,
};

const longText = (chars: number) => 'x'.repeat(chars);

describe('deployment maxima on create', () => {
  it.each([
    ['more essays than the maximum', 'essays', { essays: testEssays(6) }],
    ['a paged batch larger than the maximum', 'essay_count', { essay_count: 6 }],
    [
      'an essay longer than the maximum',
      'essays[2].text',
      {
        essays: testEssays(3).map((essay, i) =>
          i === 2 ? { ...essay, text: longText(101) } : essay,
        ),
      },
    ],
    ['a budget over the maximum', 'budget', { essays: testEssays(3), budget: 31 }],
  ])('%s is a 400 naming %s, and nothing is stored', async (_name, field, body) => {
    // Prepare
    const p = createPipeline();

    // Act
    const response = await httpFailureOf(
      createBatch({ ...p.deps, limits: LIMITS }, body, TEST_CALLER),
    );

    // Assess
    expect(response).toMatchObject({ status: 400, body: { error: 'validation_error', field } });
    expect((response.body as { message: string }).message).toContain('this deployment');
    expect(p.sent.continuation).toHaveLength(0);
    expect(p.callLog).toEqual([]);
  });

  it('accepts a request exactly at every maximum', async () => {
    // Prepare
    const p = createPipeline();
    const essays = testEssays(5).map((essay) => ({ ...essay, text: longText(100) }));

    // Act
    const result = await createBatch(
      { ...p.deps, limits: LIMITS },
      { essays, budget: 30 },
      TEST_CALLER,
    );

    // Assess
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({ essay_count: 5, total_budget: 30 });
  });

  it('cuts a default budget to the maximum instead of refusing the batch', async () => {
    // Prepare: 5 essays at 200 per essay would be 500 comparisons by default.
    const p = createPipeline();

    // Act
    const result = await createBatch(
      { ...p.deps, limits: LIMITS },
      { essays: testEssays(5), config: { DEFAULT_COMPARISONS_PER_ESSAY: 200 } },
      TEST_CALLER,
    );

    // Assess
    expect(result.body).toMatchObject({ total_budget: 30 });
  });

  it('uses the config defaults when a deployment sets no limits', async () => {
    // Prepare
    const p = createPipeline();

    // Act
    const over = await httpFailureOf(
      createBatch(
        p.deps,
        {
          essays: testEssays(3),
          budget: DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH + 1,
        },
        TEST_CALLER,
      ),
    );
    const at = await createBatch(
      p.deps,
      {
        essays: testEssays(3),
        budget: DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH,
      },
      TEST_CALLER,
    );

    // Assess
    expect(over).toMatchObject({ status: 400, body: { field: 'budget' } });
    expect(at.status).toBe(201);
  });
});

describe('deployment maxima on the paged upload path', () => {
  it('refuses a page with an essay longer than the maximum, naming essays[i].text', async () => {
    // Prepare
    const p = createPipeline();
    const deps = { ...p.deps, limits: LIMITS };
    const created = await createBatch(deps, { essay_count: 4 }, TEST_CALLER);
    const batchId = (created.body as { batch_id: string }).batch_id;
    const page = testEssays(2).map((essay, i) =>
      i === 1 ? { ...essay, text: longText(101) } : essay,
    );

    // Act
    const response = await httpFailureOf(
      addEssays(deps, batchId, TEST_CALLER, { offset: 0, essays: page }),
    );
    const stored = await addEssays(deps, batchId, TEST_CALLER, {
      offset: 0,
      essays: testEssays(2),
    });

    // Assess
    expect(response).toMatchObject({ status: 400, body: { field: 'essays[1].text' } });
    expect(stored.body).toMatchObject({ outcome: 'stored', essays_stored: 2 });
  });
});
