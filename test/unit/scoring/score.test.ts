import { describe, expect, it } from 'vitest';
import { decisionsCsv, generateDecisions } from '#bench/support/decision-files.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { fitPosterior } from '#domain/posterior.ts';
import { engineFit, posteriorOptions } from '#domain/prior.ts';
import { conventionalFit, scaleSeparationReliability, spearman } from '#domain/reliability.ts';
import { readDecisions } from '#shared/scoring/decisions.ts';
import { countComponents, scoreDecisions } from '#shared/scoring/score.ts';

/** Five essays, three judges, every item both wins and loses; checked by hand below. */
const SMALL_FILE = [
  'judge,winner,loser',
  'ann,A,B',
  'ann,A,C',
  'ann,B,C',
  'ann,C,D',
  'ann,D,E',
  'bob,B,A',
  'bob,A,D',
  'bob,C,E',
  'bob,E,D',
  'bob,B,D',
  'cy,E,A',
  'cy,D,C',
  'cy,C,B',
  'cy,A,E',
  'cy,B,E',
  '',
].join('\n');

const sigma = (x: number) => 1 / (1 + Math.exp(-x));

describe('scoreDecisions on a small hand-checked file', () => {
  const decisions = readDecisions(SMALL_FILE);
  const report = scoreDecisions(decisions, { splits: 5, seed: 2 });
  const byId = new Map(report.items.map((item) => [item.id, item]));
  const data = {
    n: decisions.itemIds.length,
    winners: decisions.winners,
    losers: decisions.losers,
  };

  it('reports the engine’s posterior: the same scores and SEs as a batch would get', () => {
    // Prepare
    const engine = engineFit(data, DEFAULT_CONFIG);

    // Act
    const scores = decisions.itemIds.map((id) => byId.get(id)?.score as number);
    const se = decisions.itemIds.map((id) => byId.get(id)?.se as number);

    // Assess
    expect(scores).toEqual([...engine.scores]);
    expect(se).toEqual([...engine.se]);
    expect(report.summary.prior_variance).toBe(engine.priorVariance);
  });

  it('counts comparisons and wins, and ranks by score', () => {
    // Prepare: counted from the file by hand.
    const expected = {
      A: { comparisons: 6, wins: 4 },
      B: { comparisons: 6, wins: 4 },
      C: { comparisons: 6, wins: 3 },
      D: { comparisons: 6, wins: 2 },
      E: { comparisons: 6, wins: 2 },
    };

    // Act
    const counts = Object.fromEntries(
      report.items.map((i) => [i.id, { comparisons: i.comparisons, wins: i.wins }]),
    );

    // Assess
    expect(counts).toEqual(expected);
    expect(report.items.map((i) => i.rank)).toEqual([1, 2, 3, 4, 5]);
    for (let k = 1; k < report.items.length; k++) {
      expect(report.items[k - 1]?.score).toBeGreaterThan(report.items[k]?.score as number);
    }
    expect(['A', 'B']).toContain(report.items[0]?.id);
  });

  it('reports the EAP reliability of the posterior, and by hand under a fixed prior', () => {
    // Prepare: under a fixed prior there is no variance to integrate over, so the EAP reliability
    // is var(scores) / (var(scores) + mean SE²) of the reported scores.
    const fixed = scoreDecisions(decisions, { alpha: 0.25, splits: 1 });
    const scores = fixed.items.map((i) => i.score);
    const mean = scores.reduce((sum, v) => sum + v, 0) / scores.length;
    const variance = scores.reduce((sum, v) => sum + (v - mean) ** 2, 0) / scores.length;
    const meanSe2 = fixed.items.reduce((sum, i) => sum + i.se ** 2, 0) / scores.length;

    // Act
    const { eap } = report.reliability;

    // Assess
    expect(eap).toBe(engineFit(data, DEFAULT_CONFIG).reliability);
    expect(fixed.reliability.eap).toBeCloseTo(variance / (variance + meanSe2), 12);
  });

  it('reports SSR as the literature computes it, from the conventional estimate', () => {
    // Prepare
    const conventional = conventionalFit(data);
    const mean = conventional.scores.reduce((sum, v) => sum + v, 0) / 5;
    const variance = conventional.scores.reduce((sum, v) => sum + (v - mean) ** 2, 0) / 4;
    const meanSe2 = conventional.se.reduce((sum, v) => sum + v * v, 0) / 5;

    // Act
    const { ssr } = report.reliability;

    // Assess
    expect(ssr).toBeCloseTo((variance - meanSe2) / variance, 12);
    expect(ssr).toBeCloseTo(scaleSeparationReliability(conventional.scores, conventional.se), 12);
  });

  it('reports each judge’s infit and outfit recomputed by hand from the conventional estimate', () => {
    // Prepare
    const conventional = conventionalFit(data);
    const scoreOf = new Map(
      decisions.itemIds.map((id, i) => [id, conventional.scores[i] as number]),
    );
    const rows = SMALL_FILE.trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    const expected = new Map<string, { q2: number; pq: number; outfit: number; n: number }>();
    for (const [judge, winner, loser] of rows) {
      const p = sigma(
        (scoreOf.get(winner as string) as number) - (scoreOf.get(loser as string) as number),
      );
      const e = expected.get(judge as string) ?? { q2: 0, pq: 0, outfit: 0, n: 0 };
      expected.set(judge as string, {
        q2: e.q2 + (1 - p) ** 2,
        pq: e.pq + p * (1 - p),
        outfit: e.outfit + (1 - p) / p,
        n: e.n + 1,
      });
    }

    // Act
    const judges = report.judges;

    // Assess
    expect(judges.map((j) => j.judge)).toEqual(['ann', 'bob', 'cy']);
    for (const j of judges) {
      const e = expected.get(j.judge);
      expect(j.decisions).toBe(e?.n);
      expect(j.infit).toBeCloseTo((e?.q2 as number) / (e?.pq as number), 12);
      expect(j.outfit).toBeCloseTo((e?.outfit as number) / (e?.n as number), 12);
    }
  });

  it('splits by judge and summarises the graph', () => {
    // Assess
    expect(report.reliability.split_by).toBe('judge');
    expect(report.reliability.splits).toBe(5);
    expect(report.summary).toMatchObject({
      items: 5,
      decisions: 15,
      judges: 3,
      components: 1,
      items_all_wins: 0,
      items_all_losses: 0,
      prior: 'empirical_bayes',
      alpha: DEFAULT_CONFIG.BT_PRIOR_ALPHA,
      converged: true,
    });
    expect(report.order_effect).toBeNull();
    expect(report.warnings).toEqual([]);
  });
});

describe('scoreDecisions: options, splits and flags', () => {
  it('uses the fixed prior of variance 1/alpha when given alpha', () => {
    // Prepare
    const decisions = readDecisions(SMALL_FILE);
    const data = { n: 5, winners: decisions.winners, losers: decisions.losers };
    const reference = fitPosterior(data, {
      ...posteriorOptions(DEFAULT_CONFIG),
      priorVariance: 2,
    });

    // Act
    const report = scoreDecisions(decisions, { alpha: 0.5, splits: 1 });

    // Assess
    const byId = new Map(report.items.map((i) => [i.id, i.score]));
    decisions.itemIds.forEach((id, i) => {
      expect(byId.get(id)).toBeCloseTo(reference.scores[i] as number, 12);
    });
    expect(report.summary).toMatchObject({ alpha: 0.5, prior: 'fixed', prior_variance: 2 });
  });

  it('estimates the order effect when the file says which item was shown first', () => {
    // Prepare: 40 items, 1,200 decisions by a judge who favours the item shown first by 0.7.
    const generated = generateDecisions({
      items: 40,
      decisions: 1200,
      judges: 6,
      erraticJudges: 0,
      seed: 5,
      positionBias: 0.7,
    });

    // Act
    const report = scoreDecisions(readDecisions(decisionsCsv(generated.rows)), { splits: 1 });

    // Assess
    const effect = report.order_effect;
    expect(effect?.decisions).toBe(1200);
    expect(Math.abs((effect?.estimate ?? 0) - 0.7)).toBeLessThan(3 * (effect?.se ?? 0));
    expect(effect?.first_shown_win_rate).toBeGreaterThan(0.55);
    expect(effect?.ci95[0]).toBeLessThan(effect?.estimate as number);
  });

  it('splits random halves of the decisions without a judge column, or with one judge', () => {
    // Prepare
    const noJudge = readDecisions('winner,loser\na,b\nb,c\nc,a\na,c\n');
    const oneJudge = readDecisions('judge,winner,loser\nj,a,b\nj,b,c\nj,c,a\nj,a,c\n');

    // Act
    const a = scoreDecisions(noJudge, { splits: 3 });
    const b = scoreDecisions(oneJudge, { splits: 3 });

    // Assess
    expect(a.reliability.split_by).toBe('decision');
    expect(a.judges).toEqual([]);
    expect(a.warnings).toEqual([]);
    expect(b.reliability.split_by).toBe('decision');
    expect(b.warnings).toEqual([expect.stringMatching(/only one judge/)]);
    expect(b.judges).toHaveLength(1);
  });

  it('scores a disconnected graph, counts its components and warns', () => {
    // Prepare: {a, b, c} and {x, y} never meet; x wins everything, y loses everything.
    const decisions = readDecisions('winner,loser\na,b\nb,c\nc,a\nx,y\nx,y\n');

    // Act
    const report = scoreDecisions(decisions, { splits: 2 });

    // Assess
    expect(report.summary.components).toBe(2);
    expect(report.summary.items_all_wins).toBe(1);
    expect(report.summary.items_all_losses).toBe(1);
    expect(report.items.every((i) => Number.isFinite(i.score) && Number.isFinite(i.se))).toBe(true);
    expect(report.warnings).toEqual([expect.stringMatching(/2 disconnected components/)]);
  });

  it('gives equal scores the same rank', () => {
    // Prepare: a symmetric cycle, every item equal.
    const decisions = readDecisions('winner,loser\na,b\nb,c\nc,a\n');

    // Act
    const report = scoreDecisions(decisions, { splits: 1 });

    // Assess
    expect(report.items.map((i) => i.rank)).toEqual([1, 1, 1]);
  });

  it('flags the erratic judge among ordinary ones', () => {
    // Prepare: 12 judges, the last tosses a coin.
    const generated = generateDecisions({
      items: 30,
      decisions: 3000,
      judges: 12,
      erraticJudges: 1,
      seed: 8,
    });

    // Act
    const report = scoreDecisions(readDecisions(decisionsCsv(generated.rows)), { splits: 3 });

    // Assess
    const flagged = report.judges.filter((j) => j.flagged).map((j) => j.judge);
    expect(flagged).toEqual([...generated.erratic]);
    expect(report.judge_flag.infit_threshold).not.toBeNull();
  });
});

describe('countComponents', () => {
  it('counts isolated items and merged groups', () => {
    // Act / Assess
    expect(countComponents(4, Int32Array.from([0]), Int32Array.from([1]))).toBe(3);
    expect(countComponents(3, Int32Array.from([0, 1]), Int32Array.from([1, 2]))).toBe(1);
    expect(countComponents(0, new Int32Array(), new Int32Array())).toBe(0);
  });
});

describe('scoreDecisions on a generated export of 100,000 decisions over 5,000 items', () => {
  it('reads and scores it, recovering the truth, with judge-split reliability', {
    timeout: 300_000,
  }, () => {
    // Prepare
    const generated = generateDecisions({
      items: 5000,
      decisions: 100_000,
      judges: 50,
      erraticJudges: 1,
      seed: 1,
    });
    const text = decisionsCsv(generated.rows);

    // Act
    const decisions = readDecisions(text);
    const report = scoreDecisions(decisions, { splits: 3 });

    // Assess
    expect(report.summary).toMatchObject({
      items: 5000,
      decisions: 100_000,
      judges: 50,
      components: 1,
      prior: 'empirical_bayes',
      converged: true,
    });
    expect(report.items).toHaveLength(5000);
    expect(report.items.reduce((s, i) => s + i.comparisons, 0)).toBe(200_000);
    expect(report.items.reduce((s, i) => s + i.wins, 0)).toBe(100_000);
    const recovered = spearman(
      report.items.map((i) => i.score),
      report.items.map((i) => generated.truth.get(i.id) as number),
    );
    expect(recovered).toBeGreaterThan(0.95);
    expect(report.reliability.split_by).toBe('judge');
    expect(report.reliability.ssr).toBeGreaterThan(0.85);
    expect(report.reliability.eap).toBeGreaterThan(0.85);
    expect(report.reliability.split_half_median).toBeGreaterThan(0.75);
    // The erratic judge is flagged; the relative rule may also catch an ordinary judge or two.
    const threshold = report.judge_flag.infit_threshold as number;
    const flagged = report.judges.filter((j) => j.flagged);
    expect(flagged.map((j) => j.judge)).toContain('judge-50');
    expect(flagged.length).toBeLessThanOrEqual(3);
    for (const j of report.judges) expect(j.flagged).toBe(j.infit > threshold);
  });
});
