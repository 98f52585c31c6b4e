import { describe, expect, it } from 'vitest';
import type { BatchState } from '#messages/state.ts';
import { batchReportModel, type ScoredDecisions, scoreReportModel } from '#shared/report/model.ts';
import { reliabilityReading, renderReport } from '#shared/report/page.ts';
import { readDecisions } from '#shared/scoring/decisions.ts';
import { scoreDecisions } from '#shared/scoring/score.ts';
import { makeBatchState, makeResults, makeWaves } from '#test/helpers/report-factories.ts';

const NOW = new Date('2026-11-27T09:00:00.000Z');

/** Occurrences of `pattern` in `text`. */
function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

function batchHtml(n: number, waves = makeWaves(6, 50)): string {
  return renderReport(
    batchReportModel({
      state: makeBatchState({ essay_count: n }),
      results: makeResults(n),
      waves,
      generatedAt: NOW,
    }),
  );
}

describe('the batch report page', () => {
  it('has one scale-plot mark and one table row per essay, in rank order', () => {
    // Prepare
    const results = makeResults(40);

    // Act
    const html = batchHtml(40);

    // Assess
    expect(count(html, /<g class="essay" data-id="/g)).toBe(40);
    expect(count(html, /<tr data-id="/g)).toBe(40);
    const tableIds = [...html.matchAll(/<tr data-id="([^"]+)"><td class="n">(\d+)<\/td>/g)].map(
      (m) => [m[1], Number(m[2])],
    );
    expect(tableIds).toEqual(results.essays.map((row) => [row.id, row.rank]));
  });

  it('is self-contained: no external script, style, image or link to fetch', () => {
    // Act
    const html = batchHtml(40);

    // Assess
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toMatch(/<img/);
    expect(html).not.toMatch(/url\(/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('shows reliability with its reading, usage and cost, waves, and the raised flag', () => {
    // Act
    const html = batchHtml(40);

    // Assess
    expect(html).toContain('<td class="n" id="ssr">0.912</td>');
    expect(html).toContain('<td class="n" id="split-half">0.834</td>');
    expect(html).toContain('<b>split-half 0.83: high.</b>');
    expect(html).toContain('$0.0604');
    expect(html).toContain('355,200');
    expect(count(html, /<g class="wave" data-iteration=/g)).toBe(6);
    expect(count(html, /<tr data-iteration=/g)).toBe(6);
    expect(html).toContain('id="pending-chart"');
    expect(html).toContain('finalize COMPLETE_STABLE');
    expect(html).toMatch(
      /data-flag="has_isolated_items"><td>has_isolated_items<\/td><td><span class="flag-on">raised/,
    );
  });

  it('shows the engine ledger decision and reason of a wave when the history has them', () => {
    // Prepare
    const waves = makeWaves(2, 10);
    waves.waves[1] = {
      ...waves.waves[1],
      decision: 'plan_resampling',
      reason: 'unstable_scores',
    } as (typeof waves.waves)[number];

    // Act
    const html = batchHtml(10, waves);

    // Assess
    expect(html).toContain('<td>plan_resampling</td><td>unstable_scores</td>');
    expect(html).toContain('<td>plan coverage wave</td><td>–</td>');
  });

  it('says why there is no wave history and no results for a running batch', () => {
    // Prepare
    const model = batchReportModel({
      state: makeBatchState({ status: 'RUNNING', finalized_at: null, processing_metadata: {} }),
      results: null,
      waves: null,
      wavesNote: 'This API serves no wave history.',
      generatedAt: NOW,
    });

    // Act
    const html = renderReport(model);

    // Assess
    expect(html).toContain('This API serves no wave history.');
    expect(html).toContain('No scores yet');
    expect(count(html, /<g class="essay"/g)).toBe(0);
  });

  it('adds projected grades, anchors and boundaries when the batch has a grade scale', () => {
    // Prepare
    const results = makeResults(6);
    const rows = results.essays.map((row, index) => ({
      ...row,
      grade: index < 3 ? 'A' : 'B',
      ...(index === 0 ? { anchor_grade: 'A' } : {}),
    }));
    // Grades as the finalization report adds them (docs/grades.md).
    const state = makeBatchState({
      processing_metadata: {
        ...makeBatchState().processing_metadata,
        grades: {
          scale: ['C', 'B', 'A'],
          anchors_per_grade: [1, 1, 1],
          boundaries: [
            { lower: 'C', upper: 'B', score: -1.5, se: 0.3 },
            { lower: 'B', upper: 'A', score: 0.4, se: 0.3 },
          ],
        },
      } as BatchState['processing_metadata'],
    });

    // Act
    const html = renderReport(
      batchReportModel({
        state,
        results: { ...results, essays: rows },
        waves: null,
        generatedAt: NOW,
      }),
    );

    // Assess
    expect(html).toContain('<th>projected grade</th>');
    expect(count(html, /<td>A<\/td>/g)).toBeGreaterThanOrEqual(3);
    expect(count(html, /<g class="essay anchor"/g)).toBe(1);
    expect(count(html, /<g class="boundary">/g)).toBe(2);
  });

  it('shows a failed batch with EAP reliability, the order effect, the call mode and an unpriced judge', () => {
    // Prepare
    const state = {
      ...makeBatchState({
        status: 'FAILED',
        failure_reason: 'no_successful_comparisons',
        processing_metadata: {
          reliability: { ssr: 0.7, split_half: null, eap: 0.88 },
          judge_usage: {
            comparisons: 20,
            input_tokens: 24_000,
            output_tokens: 800,
            cost_usd: null,
            unpriced_comparisons: 20,
            both_orders_comparisons: 10,
            order_flip_rate: 0.2,
            mode: 'provider_batch',
          },
          order_effect: { estimate: 0.25, se: 0.1, first_shown_win_rate: 0.56 },
        } as unknown as BatchState['processing_metadata'],
      }),
      judge: { provider: 'openai-compatible', model: 'llama-3.1-8b' },
    } as BatchState;

    // Act
    const html = renderReport(
      batchReportModel({ state, results: makeResults(4), waves: null, generatedAt: NOW }),
    );

    // Assess
    expect(html).toContain('FAILED (no_successful_comparisons)');
    expect(html).toContain('<b>EAP reliability 0.88: high.</b>');
    expect(html).toContain('<dt>judge</dt><dd>openai-compatible llama-3.1-8b</dd>');
    expect(html).toContain(
      '<dt>calls made as</dt><dd>the batch API of the provider (costs at its batch prices)</dd>',
    );
    expect(html).toContain('not priced (no list price for this model, or the mock)');
    expect(html).toContain('20.0 % of 10 comparisons judged in both orders');
    expect(html).toContain('0.250 logits for the essay shown first (95 % 0.054 to 0.446)');
    expect(html).toContain('the first-shown essay won 56.0 %');
  });

  it('names a mock judge by its profile and prices a partly unpriced batch over its priced comparisons', () => {
    // Prepare
    const base = makeBatchState();
    const state = {
      ...base,
      processing_metadata: {
        ...base.processing_metadata,
        judge_usage: {
          comparisons: 10,
          input_tokens: 1000,
          output_tokens: 100,
          cost_usd: 0.02,
          unpriced_comparisons: 5,
          unverified_price_comparisons: 2,
        },
      },
      judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low' },
    } as unknown as BatchState;

    // Act
    const html = renderReport(
      batchReportModel({ state, results: makeResults(3), waves: null, generatedAt: NOW }),
    );

    // Assess
    expect(html).toContain('<dd>mock (eng5_lower5_gpt51_low)</dd>');
    expect(html).toContain('$0.0200 (5 comparisons without a price are not included)');
    expect(html).toContain('$0.00400 per comparison');
    expect(html).toContain('2 of them at a price not checked against the list of the provider');
    expect(html).toContain('<dt>calls made as</dt><dd>one request per comparison</dd>');
  });

  it('reads grades given as labels and skips boundaries without a score', () => {
    // Prepare
    const results = makeResults(2);
    const rows = results.essays.map((row, index) => ({ ...row, grade: index === 0 ? 'A' : 'B' }));
    const state = makeBatchState({
      processing_metadata: {
        grades: { scale: ['B', 'A'], boundaries: [{ lower: 'B', upper: 'A' }, 'junk'] },
      } as BatchState['processing_metadata'],
    });

    // Act
    const model = batchReportModel({
      state,
      results: { ...results, essays: rows },
      waves: null,
      generatedAt: NOW,
    });

    // Assess
    expect(model.grades).toEqual({ scale: ['B', 'A'], boundaries: [] });
    expect(model.rows.map((row) => row.grade)).toEqual(['A', 'B']);
    expect(model.usage).toBeNull();
    expect(model.reliability).toEqual({ ssr: null, splitHalf: null, eap: null });
  });

  it('draws a scale around essays that all have the same score', () => {
    // Prepare
    const results = makeResults(3);
    const tied = results.essays.map((row) => ({ ...row, score: 0, se: 0 }));

    // Act
    const html = renderReport(
      batchReportModel({
        state: makeBatchState({ essay_count: 3 }),
        results: { ...results, essays: tied },
        waves: null,
        generatedAt: NOW,
      }),
    );

    // Assess
    expect(count(html, /<g class="essay" data-id="/g)).toBe(3);
    expect(html).not.toMatch(/="[^"]*NaN/); // no mark or axis at a NaN coordinate
  });

  it('stays under 1 MB for 1,000 essays with 60 waves', () => {
    // Act
    const html = batchHtml(1000, makeWaves(60, 500));

    // Assess
    expect(count(html, /<g class="essay" data-id="/g)).toBe(1000);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
  });
});

describe('the cj score report page', () => {
  it('adds judge infit/outfit and escapes ids that come from a user file', () => {
    // Prepare
    const csv = [
      'winner,loser,judge',
      '<script>x</script>,b,j1',
      'b,c,j1',
      'c,<script>x</script>,j2',
      'b,<script>x</script>,j2',
      'c,b,j3',
      'b,c,j3',
    ].join('\n');
    const report = scoreDecisions(readDecisions(csv));

    // Act
    const html = renderReport(scoreReportModel(report, 'decisions.csv', NOW));

    // Assess
    expect(html).not.toContain('<script>x</script>');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(count(html, /<g class="essay" data-id="/g)).toBe(3);
    expect(count(html, /<g class="judge[^"]*" data-judge="/g)).toBe(3);
    expect(html).toContain('id="judge-table"');
    const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
    expect(JSON.parse(data?.[1] ?? '{}').rows).toHaveLength(3);
  });
});

describe('the judge fit of a scored decisions file', () => {
  const scored = (judges: ScoredDecisions['judges'], threshold: number | null) =>
    renderReport(
      scoreReportModel(
        {
          items: [
            { rank: 1, id: 'a', score: 1, se: 0.5, comparisons: 4, wins: 3 },
            { rank: 2, id: 'b', score: -1, se: 0.5, comparisons: 4, wins: 1 },
          ],
          reliability: { ssr: 0.6, split_half: 0.5 },
          judges,
          judge_flag: { rule: 'infit above mean + 2 SD', infit_threshold: threshold },
          summary: { items: 2, decisions: 4, judges: judges.length, components: 2 },
          warnings: ['two groups never compared'],
        },
        'decisions.csv',
        NOW,
      ),
    );

  it('marks a flagged judge, with or without a threshold line', () => {
    // Prepare
    const judges = [
      { judge: 'j1', decisions: 2, infit: 0.9, outfit: 1.1, flagged: false },
      { judge: 'j2', decisions: 2, infit: 2.4, outfit: 2.9, flagged: true },
    ];

    // Act
    const withThreshold = scored(judges, 1.8);
    const withoutThreshold = scored(judges, null);

    // Assess
    for (const html of [withThreshold, withoutThreshold]) {
      expect(count(html, /<g class="judge flagged" data-judge="j2"/g)).toBe(1);
      expect(count(html, /<g class="judge" data-judge="j1"/g)).toBe(1);
      expect(html).toMatch(
        /data-flag="judges_flagged"><td>judges_flagged<\/td><td><span class="flag-on">/,
      );
      expect(html).toMatch(
        /data-flag="disconnected_graph"><td>disconnected_graph<\/td><td><span class="flag-on">/,
      );
      expect(html).toContain('two groups never compared');
    }
    expect(withThreshold).toContain('flag above 1.80');
    expect(withoutThreshold).not.toContain('flag above');
  });

  it('says so when the file names no judges', () => {
    // Act
    const html = scored([], null);

    // Assess
    expect(html).toContain('The decisions file names no judges.');
    expect(html).not.toContain('id="judge-table"');
  });
});

describe('reliabilityReading', () => {
  it.each([
    [0.95, 'very high'],
    [0.9, 'very high'],
    [0.85, 'high'],
    [0.8, 'high'],
    [0.75, 'moderate'],
    [0.6, 'low'],
    [0.2, 'very low'],
  ])('reads %d as %s', (value, level) => {
    // Act
    const reading = reliabilityReading(value);

    // Assess
    expect(reading.level).toBe(level);
  });
});
