/**
 * The report's plots as plain SVG written at report time (no script at view time, so the page
 * works offline and prints). Scale domains and tick positions come from d3-array's `nice` and
 * `ticks`; the marks are SVG elements with `data-*` attributes the browser tests count.
 */
import { nice, ticks } from 'd3-array';
import { escapeHtml, fixed } from './html.ts';

export const CHART_WIDTH = 960;
const MARGIN = { top: 16, right: 24, bottom: 44, left: 64 };

interface LinearScale {
  (value: number): number;
  readonly domain: readonly [number, number];
  readonly ticks: number[];
}

/** A linear map from a nice-rounded domain onto pixels, with its ticks. */
export function linearScale(
  domain: readonly [number, number],
  range: readonly [number, number],
  tickCount = 6,
): LinearScale {
  let [low, high] = domain;
  if (!(Number.isFinite(low) && Number.isFinite(high))) [low, high] = [0, 1];
  if (low === high) [low, high] = [low - 1, high + 1];
  const [d0, d1] = nice(low, high, tickCount) as [number, number];
  const map = (value: number) => range[0] + ((value - d0) / (d1 - d0)) * (range[1] - range[0]);
  return Object.assign(map, { domain: [d0, d1] as const, ticks: ticks(d0, d1, tickCount) });
}

/** Pixel coordinates with one decimal: enough for the eye, and it keeps 1,000 marks small. */
function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function tickLabel(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

function yAxis(scale: LinearScale, left: number, right: number, label: string): string {
  const lines = scale.ticks.map((tick) => {
    const y = px(scale(tick));
    return `<line class="grid" x1="${left}" x2="${right}" y1="${y}" y2="${y}"/><text class="tick" x="${left - 6}" y="${y}" dy="0.32em" text-anchor="end">${tickLabel(tick)}</text>`;
  });
  const middle = px((scale(scale.domain[0]) + scale(scale.domain[1])) / 2);
  return `${lines.join('')}<text class="axis-label" transform="translate(16 ${middle}) rotate(-90)" text-anchor="middle">${escapeHtml(label)}</text>`;
}

function xAxis(scale: LinearScale, bottom: number, label: string, format = tickLabel): string {
  const lines = scale.ticks.map((tick) => {
    const x = px(scale(tick));
    return `<line class="tick-mark" x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 5}"/><text class="tick" x="${x}" y="${bottom + 18}" text-anchor="middle">${format(tick)}</text>`;
  });
  const middle = px((scale(scale.domain[0]) + scale(scale.domain[1])) / 2);
  return `<line class="axis" x1="${px(scale(scale.domain[0]))}" x2="${px(scale(scale.domain[1]))}" y1="${bottom}" y2="${bottom}"/>${lines.join('')}<text class="axis-label" x="${middle}" y="${bottom + 38}" text-anchor="middle">${escapeHtml(label)}</text>`;
}

function svg(height: number, label: string, body: string, id: string): string {
  return `<svg id="${id}" class="chart" viewBox="0 0 ${CHART_WIDTH} ${height}" role="img" aria-label="${escapeHtml(label)}">${body}</svg>`;
}

export interface ScaleMark {
  id: string;
  rank: number;
  score: number;
  se: number;
  /** Projected grade (shown in the tooltip) and whether the essay is an anchor. */
  grade?: string | null;
  anchor?: boolean;
}

export interface ScaleBoundary {
  label: string;
  score: number;
}

/** z of a two-sided 95 % normal interval. */
export const Z95 = 1.959964;

/**
 * Every essay on the score scale, best first from the left: a dot at its score and a bar over its
 * 95 % interval (score ± 1.96 SE); grade boundaries as dashed lines when the batch has them.
 */
export function scalePlot(marks: readonly ScaleMark[], boundaries: readonly ScaleBoundary[] = []) {
  const height = 380;
  const sorted = [...marks].sort((x, y) => x.rank - y.rank || y.score - x.score);
  const low = Math.min(
    ...sorted.map((m) => m.score - Z95 * m.se),
    ...boundaries.map((b) => b.score),
  );
  const high = Math.max(
    ...sorted.map((m) => m.score + Z95 * m.se),
    ...boundaries.map((b) => b.score),
  );
  const y = linearScale([low, high], [height - MARGIN.bottom, MARGIN.top]);
  const n = Math.max(1, sorted.length);
  const x = linearScale([0.5, n + 0.5], [MARGIN.left, CHART_WIDTH - MARGIN.right]);
  const step = (CHART_WIDTH - MARGIN.left - MARGIN.right) / n;
  const radius = Math.max(1.2, Math.min(4, step * 0.35));
  const dots = sorted.map((mark, position) => {
    const cx = px(x(position + 1));
    const tip = `${mark.id}: rank ${mark.rank}, score ${fixed(mark.score, 2)} (95 % ${fixed(mark.score - Z95 * mark.se, 2)} to ${fixed(mark.score + Z95 * mark.se, 2)})${mark.grade ? `, grade ${mark.grade}` : ''}${mark.anchor ? ', anchor' : ''}`;
    return `<g class="essay${mark.anchor ? ' anchor' : ''}" data-id="${escapeHtml(mark.id)}" data-rank="${mark.rank}" data-score="${mark.score}"><line class="ci" x1="${cx}" x2="${cx}" y1="${px(y(mark.score - Z95 * mark.se))}" y2="${px(y(mark.score + Z95 * mark.se))}"/><circle class="mark" cx="${cx}" cy="${px(y(mark.score))}" r="${px(radius)}"/><title>${escapeHtml(tip)}</title></g>`;
  });
  const lines = boundaries.map((boundary) => {
    const by = px(y(boundary.score));
    return `<g class="boundary"><line x1="${MARGIN.left}" x2="${CHART_WIDTH - MARGIN.right}" y1="${by}" y2="${by}"/><text x="${CHART_WIDTH - MARGIN.right - 4}" y="${by}" dy="-0.35em" text-anchor="end">${escapeHtml(boundary.label)}</text></g>`;
  });
  const rankTicks = linearScale([1, n], [MARGIN.left, CHART_WIDTH - MARGIN.right], 10).ticks.filter(
    (tick) => Number.isInteger(tick) && tick >= 1 && tick <= n,
  );
  const rankAxis = xAxis(
    Object.assign((value: number) => x(value), { domain: x.domain, ticks: rankTicks }),
    height - MARGIN.bottom,
    'rank (best on the left)',
  );
  return svg(
    height,
    `Scale plot: ${marks.length} essays with their 95 % intervals`,
    `${yAxis(y, MARGIN.left, CHART_WIDTH - MARGIN.right, 'score (logits)')}${rankAxis}${lines.join('')}<g class="marks">${dots.join('')}</g>`,
    'scale-plot',
  );
}

export interface WaveBar {
  iteration: number;
  kind: string;
  completed: number;
  failed: number;
  /** Requests still waiting for their callback (a running batch's last wave). */
  pending: number;
}

/** Comparisons per wave: completed, failed and still pending, stacked. */
export function waveChart(bars: readonly WaveBar[]): string {
  const height = 260;
  const total = (bar: WaveBar) => bar.completed + bar.failed + bar.pending;
  const y = linearScale(
    [0, Math.max(1, ...bars.map(total))],
    [height - MARGIN.bottom, MARGIN.top],
    5,
  );
  const n = Math.max(1, bars.length);
  const x = linearScale([0.5, n + 0.5], [MARGIN.left, CHART_WIDTH - MARGIN.right]);
  const width = Math.max(2, ((CHART_WIDTH - MARGIN.left - MARGIN.right) / n) * 0.7);
  const rects = bars.map((bar, index) => {
    const left = px(x(index + 1) - width / 2);
    let base = y.domain[0];
    const parts = (
      [
        ['completed', bar.completed],
        ['failed', bar.failed],
        ['pending', bar.pending],
      ] as const
    )
      .filter(([, count]) => count > 0)
      .map(([cls, count]) => {
        const top = y(base + count);
        const rect = `<rect class="${cls}" x="${left}" width="${px(width)}" y="${px(top)}" height="${px(y(base) - top)}"/>`;
        base += count;
        return rect;
      });
    return `<g class="wave" data-iteration="${bar.iteration}"><title>wave ${bar.iteration} (${escapeHtml(bar.kind)}): ${bar.completed} completed, ${bar.failed} failed${bar.pending ? `, ${bar.pending} pending` : ''}</title>${parts.join('')}</g>`;
  });
  const waveTicks = x.ticks.filter((tick) => Number.isInteger(tick) && tick >= 1 && tick <= n);
  const axis = xAxis(
    Object.assign((value: number) => x(value), { domain: x.domain, ticks: waveTicks }),
    height - MARGIN.bottom,
    'wave (iteration)',
    (tick) => String(bars[tick - 1]?.iteration ?? tick),
  );
  return svg(
    height,
    `Comparisons per wave over ${bars.length} waves`,
    `${yAxis(y, MARGIN.left, CHART_WIDTH - MARGIN.right, 'comparisons')}${axis}${rects.join('')}`,
    'wave-chart',
  );
}

export interface PendingPoint {
  /** Seconds since the batch was created. */
  seconds: number;
  pending: number;
}

/** Pending callbacks over time, as a step line (the count holds until the next change). */
export function pendingChart(points: readonly PendingPoint[], waveStarts: readonly number[] = []) {
  const height = 240;
  const last = Math.max(1, ...points.map((p) => p.seconds));
  const x = linearScale([0, last], [MARGIN.left, CHART_WIDTH - MARGIN.right]);
  const y = linearScale(
    [0, Math.max(1, ...points.map((p) => p.pending))],
    [height - MARGIN.bottom, MARGIN.top],
    5,
  );
  let path = '';
  points.forEach((point, index) => {
    const previous = points[index - 1];
    path +=
      previous === undefined
        ? `M${px(x(point.seconds))},${px(y(point.pending))}`
        : `H${px(x(point.seconds))}V${px(y(point.pending))}`;
  });
  const starts = waveStarts.map(
    (seconds) =>
      `<line class="wave-start" x1="${px(x(seconds))}" x2="${px(x(seconds))}" y1="${MARGIN.top}" y2="${height - MARGIN.bottom}"/>`,
  );
  return svg(
    height,
    'Pending callbacks over time',
    `${yAxis(y, MARGIN.left, CHART_WIDTH - MARGIN.right, 'pending callbacks')}${xAxis(x, height - MARGIN.bottom, 'seconds since the batch was created')}${starts.join('')}<path class="pending-line" d="${path}"/>`,
    'pending-chart',
  );
}

export interface FitMark {
  judge: string;
  infit: number;
  outfit: number;
  flagged: boolean;
}

/** Judge infit (dot) and outfit (ring) per judge, with the flag threshold when there is one. */
export function judgeFitChart(judges: readonly FitMark[], threshold: number | null): string {
  const height = 260;
  const values = judges.flatMap((j) => [j.infit, j.outfit]);
  const y = linearScale(
    [0, Math.max(1.5, ...values, threshold ?? 0)],
    [height - MARGIN.bottom, MARGIN.top],
    5,
  );
  const n = Math.max(1, judges.length);
  const x = linearScale([0.5, n + 0.5], [MARGIN.left, CHART_WIDTH - MARGIN.right]);
  const marks = judges.map((judge, index) => {
    const cx = px(x(index + 1));
    return `<g class="judge${judge.flagged ? ' flagged' : ''}" data-judge="${escapeHtml(judge.judge)}"><title>${escapeHtml(judge.judge)}: infit ${fixed(judge.infit, 2)}, outfit ${fixed(judge.outfit, 2)}${judge.flagged ? ' (flagged)' : ''}</title><circle class="infit" cx="${cx}" cy="${px(y(judge.infit))}" r="4"/><circle class="outfit" cx="${cx}" cy="${px(y(judge.outfit))}" r="4"/></g>`;
  });
  const reference = `<line class="reference" x1="${MARGIN.left}" x2="${CHART_WIDTH - MARGIN.right}" y1="${px(y(1))}" y2="${px(y(1))}"/>`;
  const limit =
    threshold === null
      ? ''
      : `<g class="boundary"><line x1="${MARGIN.left}" x2="${CHART_WIDTH - MARGIN.right}" y1="${px(y(threshold))}" y2="${px(y(threshold))}"/><text x="${CHART_WIDTH - MARGIN.right - 4}" y="${px(y(threshold))}" dy="-0.35em" text-anchor="end">flag above ${fixed(threshold, 2)}</text></g>`;
  const judgeTicks = x.ticks.filter((tick) => Number.isInteger(tick) && tick >= 1 && tick <= n);
  const axis = xAxis(
    Object.assign((value: number) => x(value), { domain: x.domain, ticks: judgeTicks }),
    height - MARGIN.bottom,
    'judge',
    (tick) => escapeHtml(judges[tick - 1]?.judge ?? String(tick)),
  );
  return svg(
    height,
    `Judge infit and outfit for ${judges.length} judges`,
    `${yAxis(y, MARGIN.left, CHART_WIDTH - MARGIN.right, 'mean square')}${axis}${reference}${limit}${marks.join('')}`,
    'judge-fit-chart',
  );
}
