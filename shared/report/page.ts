/**
 * The report page: one self-contained HTML file (styles, the one small script and the data
 * inlined; nothing is fetched at view time) with the ranking, the scale plot, reliability and its
 * reading, grades, judge usage and cost or judge fit, the batch's waves and the quality flags.
 */
import type { BatchWaves } from '#messages/waves.ts';
import {
  judgeFitChart,
  type PendingPoint,
  pendingChart,
  type ScaleBoundary,
  scalePlot,
  waveChart,
  Z95,
} from './charts.ts';
import { escapeHtml, fixed, jsonForScript } from './html.ts';
import type { ReportModel, ReportRow } from './model.ts';

export interface ReliabilityReading {
  level: 'very high' | 'high' | 'moderate' | 'low' | 'very low';
  text: string;
}

/**
 * Plain-language reading of a reliability coefficient, with the thresholds assessment teams use:
 * 0.70 is the usual floor for low-stakes use and 0.80 the usual target for CJ (about 10
 * comparisons per essay with human judges), 0.90 what high-stakes decisions ask for.
 */
export function reliabilityReading(value: number): ReliabilityReading {
  if (value >= 0.9) {
    return {
      level: 'very high',
      text: 'Another, independent set of judgements would put the essays in almost the same order. Fit for high-stakes decisions.',
    };
  }
  if (value >= 0.8) {
    return {
      level: 'high',
      text: 'The usual target for comparative judgement: the order is sound, though essays close together on the scale may swap places with more judgements.',
    };
  }
  if (value >= 0.7) {
    return {
      level: 'moderate',
      text: 'Good enough to sort essays into broad bands, not to tell neighbouring essays apart. More comparisons per essay would raise it.',
    };
  }
  if (value >= 0.5) {
    return {
      level: 'low',
      text: 'Only the broad shape of the order is reproducible. Add comparisons before relying on individual ranks.',
    };
  }
  return {
    level: 'very low',
    text: 'The order is mostly noise: the judgements do not separate the essays. Check the judge and add comparisons.',
  };
}

const STYLE = `
:root{--ink:#1d2430;--muted:#5b6675;--line:#d9dee5;--accent:#2f6db5;--ci:#9dbbe0;--warn:#b3541e;--ok:#2e7d4f;--bg:#fff;--band:#f5f7fa}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1040px;margin:0 auto;padding:24px 20px 64px}h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:36px 0 8px;padding-top:12px;border-top:1px solid var(--line)}
.sub{color:var(--muted);margin:0 0 16px}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.tile{background:var(--band);border-radius:8px;padding:10px 14px;min-width:150px}.tile b{display:block;font-size:1.4em}.tile span{color:var(--muted);font-size:.85em}
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left}th{background:var(--band);position:sticky;top:0;cursor:pointer;user-select:none}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.chart{width:100%;height:auto;display:block;margin:8px 0}.chart .grid{stroke:#eef1f5}.chart .axis,.chart .tick-mark{stroke:#8a94a3}.chart .tick,.chart .axis-label{font-size:12px;fill:var(--muted)}
.chart .ci{stroke:var(--ci);stroke-width:1.5}.chart .mark{fill:var(--accent)}.chart .anchor .mark{fill:var(--warn)}.chart .essay:hover .mark{fill:#0b3d75}.chart .boundary line{stroke:var(--warn);stroke-dasharray:5 4}.chart .boundary text{font-size:12px;fill:var(--warn)}
.chart .completed{fill:var(--accent)}.chart .failed{fill:var(--warn)}.chart .pending{fill:#c4ccd6}.chart .pending-line{fill:none;stroke:var(--accent);stroke-width:2}.chart .wave-start{stroke:#c4ccd6;stroke-dasharray:2 3}
.chart .infit{fill:var(--accent)}.chart .outfit{fill:none;stroke:var(--accent);stroke-width:1.5}.chart .flagged .infit{fill:var(--warn)}.chart .flagged .outfit{stroke:var(--warn)}.chart .reference{stroke:#8a94a3;stroke-dasharray:2 3}
.legend{color:var(--muted);font-size:.88em}.reading{background:var(--band);border-left:4px solid var(--accent);padding:8px 12px;margin:8px 0}.flag-on{color:var(--warn);font-weight:600}.flag-off{color:var(--ok)}
.warn{background:#fff4ec;border-left:4px solid var(--warn);padding:8px 12px}.note{color:var(--muted)}.scroll{max-height:640px;overflow:auto;border:1px solid var(--line)}
@media print{.scroll{max-height:none;overflow:visible}th{position:static}}
`;

// Sorts a table by the clicked column (numbers numerically); the only script on the page.
const SCRIPT = `
for(const th of document.querySelectorAll('table.sortable th')){th.addEventListener('click',()=>{const table=th.closest('table');const col=[...th.parentNode.children].indexOf(th);const asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';const rows=[...table.tBodies[0].rows];const key=(r)=>{const t=r.cells[col].textContent.trim();const v=Number(t);return t!==''&&!Number.isNaN(v)?v:t};rows.sort((a,b)=>{const x=key(a),y=key(b);const c=typeof x==='number'&&typeof y==='number'?x-y:String(x).localeCompare(String(y));return asc?c:-c});table.tBodies[0].append(...rows)})}
`;

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function seconds(from: string, to: string | null): number | null {
  if (to === null) return null;
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

function rankingTable(rows: readonly ReportRow[], withGrades: boolean): string {
  const head = `<tr><th class="n">rank</th><th>id</th><th class="n">score</th><th class="n">se</th><th class="n">95 % low</th><th class="n">95 % high</th><th class="n">comparisons</th><th class="n">wins</th>${withGrades ? '<th>projected grade</th><th>anchor grade</th>' : ''}</tr>`;
  const body = rows
    .map(
      (row) =>
        `<tr data-id="${escapeHtml(row.id)}"><td class="n">${row.rank}</td><td>${escapeHtml(row.id)}</td><td class="n">${fixed(row.score, 3)}</td><td class="n">${fixed(row.se, 3)}</td><td class="n">${fixed(row.score - Z95 * row.se, 2)}</td><td class="n">${fixed(row.score + Z95 * row.se, 2)}</td><td class="n">${row.comparisons}</td><td class="n">${row.wins}</td>${withGrades ? `<td>${escapeHtml(row.grade ?? '–')}</td><td>${escapeHtml(row.anchorGrade ?? '')}</td>` : ''}</tr>`,
    )
    .join('');
  return `<div class="scroll"><table id="ranking" class="sortable"><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
}

function reliabilitySection(model: ReportModel): string {
  const { ssr, splitHalf, eap } = model.reliability;
  const headline = eap ?? splitHalf ?? ssr;
  const headlineName = eap !== null ? 'EAP reliability' : splitHalf !== null ? 'split-half' : 'SSR';
  const rows: string[] = [];
  if (eap !== null) {
    rows.push(
      `<tr><td>EAP reliability</td><td class="n">${fixed(eap, 3)}</td><td>Spread of the scores against their uncertainty (the posterior's own figure; tracks the true reliability in simulation, adaptive pairing included).</td></tr>`,
    );
  }
  rows.push(
    `<tr><td>scale separation reliability (SSR)</td><td class="n" id="ssr">${fixed(ssr, 3)}</td><td>Share of the spread of the scores that is real difference rather than measurement error, read like Cronbach's alpha. Comparable with published CJ figures; optimistic when the engine picks near-equal pairs (adaptive pairing).</td></tr>`,
    `<tr><td>split-half reliability</td><td class="n" id="split-half">${fixed(splitHalf, 3)}</td><td>The judgements split at random into two halves, each scored on its own; the two orders correlated and corrected to the full length (Spearman–Brown). Honest whatever chose the pairs.</td></tr>`,
  );
  const reading =
    headline === null
      ? '<p class="note">No reliability figure: the batch has no scores yet.</p>'
      : (() => {
          const r = reliabilityReading(headline);
          return `<p class="reading" id="reliability-reading"><b>${escapeHtml(headlineName)} ${fixed(headline, 2)}: ${r.level}.</b> ${escapeHtml(r.text)}</p>`;
        })();
  return section(
    'reliability',
    'Reliability',
    `${reading}<table><thead><tr><th>figure</th><th class="n">value</th><th>what it says</th></tr></thead><tbody>${rows.join('')}</tbody></table><p class="legend">Readings: 0.90 and above very high (high-stakes use), 0.80 high (the usual CJ target), 0.70 moderate (broad bands), below 0.70 low.</p>`,
  );
}

function gradesSection(model: ReportModel): string {
  if (!model.grades) return '';
  const counts = new Map<string, number>();
  for (const row of model.rows)
    if (row.grade) counts.set(row.grade, (counts.get(row.grade) ?? 0) + 1);
  const boundaries = model.grades.boundaries
    .map(
      (b) =>
        `<tr><td>${escapeHtml(b.lower)} | ${escapeHtml(b.upper)}</td><td class="n">${fixed(b.score, 2)}</td><td class="n">${fixed(b.se, 2)}</td></tr>`,
    )
    .join('');
  const distribution = model.grades.scale
    .map(
      (grade) =>
        `<tr><td>${escapeHtml(grade)}</td><td class="n">${counts.get(grade) ?? 0}</td></tr>`,
    )
    .join('');
  return section(
    'grades',
    'Grades projected from anchors',
    `<p>Grade boundaries fitted to the anchor essays' scores; every other essay gets the grade its score most likely falls in (the dashed lines on the scale plot).</p><table><thead><tr><th>boundary</th><th class="n">score</th><th class="n">se</th></tr></thead><tbody>${boundaries}</tbody></table><h3>Essays per projected grade</h3><table><thead><tr><th>grade</th><th class="n">essays</th></tr></thead><tbody>${distribution}</tbody></table>`,
  );
}

/** `judge_usage.mode` in words (docs/judges.md): sync calls, or the provider's batch API. */
function callMode(mode: string | null): string {
  if (mode === null || mode === 'sync') return 'one request per comparison';
  if (mode === 'provider_batch') return 'the batch API of the provider (costs at its batch prices)';
  return mode;
}

function usageSection(model: ReportModel): string {
  const usage = model.usage;
  if (!usage) return '';
  const cost =
    usage.costUsd === null
      ? 'not priced (no list price for this model, or the mock)'
      : `$${usage.costUsd.toFixed(4)}${usage.unpricedComparisons > 0 ? ` (${usage.unpricedComparisons} comparisons without a price are not included)` : ''}`;
  const perComparison =
    usage.costUsd !== null && usage.comparisons > usage.unpricedComparisons
      ? ` — $${(usage.costUsd / (usage.comparisons - usage.unpricedComparisons)).toFixed(5)} per comparison`
      : '';
  const unverified =
    usage.unverifiedPriceComparisons > 0
      ? `; ${usage.unverifiedPriceComparisons} of them at a price not checked against the list of the provider`
      : '';
  const lines: Array<[string, string]> = [
    ['judge', usage.judge ?? '–'],
    ['calls made as', callMode(usage.mode)],
    ['comparisons judged', String(usage.comparisons)],
    ['input tokens', usage.inputTokens.toLocaleString('en-US')],
    ['output tokens', usage.outputTokens.toLocaleString('en-US')],
    ['estimated cost', `${cost}${perComparison}${unverified}`],
  ];
  if (usage.bothOrdersComparisons > 0) {
    lines.push([
      'order flips',
      `${fixed(usage.orderFlipRate === null ? null : usage.orderFlipRate * 100, 1)} % of ${usage.bothOrdersComparisons} comparisons judged in both orders`,
    ]);
  }
  if (model.orderEffect) {
    const e = model.orderEffect;
    lines.push([
      'order effect',
      `${fixed(e.estimate, 3)} logits for the essay shown first (95 % ${fixed(e.estimate - Z95 * e.se, 3)} to ${fixed(e.estimate + Z95 * e.se, 3)})${e.firstShownWinRate === null ? '' : `; the first-shown essay won ${fixed(e.firstShownWinRate * 100, 1)} %`}; scores are free of it`,
    ]);
  }
  return section(
    'usage',
    'Judge usage and cost',
    `<dl class="facts">${lines.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl><p class="legend">Costs are estimates from list prices per token (docs/judges.md), over the verdicts actually received; failed calls the provider may still bill are not included.</p>`,
  );
}

function judgesSection(model: ReportModel): string {
  if (!model.judges) return '';
  const { rows, threshold, rule } = model.judges;
  if (rows.length === 0) {
    return section(
      'judges',
      'Judge fit',
      '<p class="note">The decisions file names no judges.</p>',
    );
  }
  const table = rows
    .map(
      (judge) =>
        `<tr data-judge="${escapeHtml(judge.judge)}"><td>${escapeHtml(judge.judge)}</td><td class="n">${judge.decisions}</td><td class="n">${fixed(judge.infit, 3)}</td><td class="n">${fixed(judge.outfit, 3)}</td><td>${judge.flagged ? '<span class="flag-on">flagged</span>' : ''}</td></tr>`,
    )
    .join('');
  return section(
    'judges',
    'Judge fit (infit and outfit)',
    `<p>How well each judge's decisions agree with the scale: 1 is as expected; well above 1 means decisions that often contradict the consensus. Flag rule: ${escapeHtml(rule)}.</p>${judgeFitChart(rows, threshold)}<p class="legend">Filled dot: infit; ring: outfit; dotted line: 1.</p><table id="judge-table" class="sortable"><thead><tr><th>judge</th><th class="n">decisions</th><th class="n">infit</th><th class="n">outfit</th><th></th></tr></thead><tbody>${table}</tbody></table>`,
  );
}

function wavesSection(model: ReportModel): string {
  const waves = model.waves;
  if (!waves) {
    return model.kind === 'batch'
      ? section(
          'waves',
          'Decisions wave by wave',
          `<p class="note">${escapeHtml(model.wavesNote ?? 'No wave history for this batch.')}</p>`,
        )
      : '';
  }
  return section('waves', 'Decisions wave by wave', wavesBody(waves));
}

function wavesBody(waves: BatchWaves): string {
  const start = waves.created_at;
  const bars = waves.waves.map((wave) => ({
    iteration: wave.iteration,
    kind: wave.kind,
    completed: wave.completed,
    failed: wave.failed,
    pending: wave.pending,
  }));
  const points: PendingPoint[] = waves.pending_timeline.map((point) => ({
    seconds: seconds(start, point.at) ?? 0,
    pending: point.pending,
  }));
  const starts = waves.waves.flatMap((wave) => {
    const at = seconds(start, wave.planned_at);
    return at === null ? [] : [at];
  });
  const rows = waves.waves
    .map((wave) => {
      const planned = seconds(start, wave.planned_at);
      const settled = seconds(start, wave.settled_at);
      return `<tr data-iteration="${wave.iteration}"><td class="n">${wave.iteration}</td><td>${escapeHtml(wave.decision ?? `plan ${wave.kind} wave`)}</td><td>${escapeHtml(wave.reason ?? '–')}</td><td class="n">${wave.size}</td><td class="n">${wave.completed}</td><td class="n">${wave.failed}${wave.timed_out > 0 ? ` (${wave.timed_out} timed out)` : ''}</td><td class="n">${wave.pending}</td><td class="n">${fixed(planned, 1)}</td><td class="n">${settled === null || planned === null ? '–' : fixed(settled - planned, 1)}</td></tr>`;
    })
    .join('');
  const finalAt = seconds(start, waves.finalized_at);
  const finalRow = `<tr class="final"><td></td><td><b>${escapeHtml(waves.finalized_at ? `finalize ${waves.status}` : waves.status)}</b></td><td>${escapeHtml(waves.failure_reason ?? (waves.finalized_at ? 'see status' : 'still running'))}</td><td colspan="4"></td><td class="n">${fixed(finalAt, 1)}</td><td></td></tr>`;
  const hasLedger = waves.waves.some((wave) => wave.decision !== null);
  return `<p>Each wave is one decision of the engine: it asked the judge for a set of comparisons and waited until every callback had arrived before deciding again.</p>
<h3>Comparisons per wave</h3>${waveChart(bars)}<p class="legend">Blue: completed; orange: failed (timeouts included); grey: still pending.</p>
<h3>Pending callbacks over time</h3>${pendingChart(points, starts)}<p class="legend">Dotted lines: a wave was planned. The engine decides again only when this line is at 0.</p>
<h3>Decisions</h3><table id="wave-table"><thead><tr><th class="n">wave</th><th>decision</th><th>reason</th><th class="n">size</th><th class="n">completed</th><th class="n">failed</th><th class="n">pending</th><th class="n">planned at (s)</th><th class="n">took (s)</th></tr></thead><tbody>${rows}${finalRow}</tbody></table>${hasLedger ? '' : '<p class="legend">The decision and reason of each wave come from the engine\'s per-wave ledger; this batch has none, so the wave\'s kind stands in for the decision.</p>'}`;
}

function flagsSection(model: ReportModel): string {
  if (model.flags.length === 0) {
    return model.kind === 'batch'
      ? section(
          'flags',
          'Quality flags',
          '<p class="note">No quality flags yet (they are set when the batch is finalized).</p>',
        )
      : '';
  }
  const rows = model.flags
    .map(
      (flag) =>
        `<tr data-flag="${escapeHtml(flag.name)}"><td>${escapeHtml(flag.name)}</td><td>${flag.raised ? '<span class="flag-on">raised</span>' : '<span class="flag-off">clear</span>'}</td><td>${escapeHtml(flag.meaning)}</td></tr>`,
    )
    .join('');
  return section(
    'flags',
    'Quality flags',
    `<table id="flag-table"><thead><tr><th>flag</th><th>state</th><th>meaning</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function tiles(model: ReportModel): string {
  const { ssr, splitHalf, eap } = model.reliability;
  const items: Array<[string, string]> = [
    [String(model.rows.length), 'essays scored'],
    [fixed(splitHalf, 2), 'split-half reliability'],
    [fixed(ssr, 2), 'SSR'],
  ];
  if (eap !== null) items.unshift([fixed(eap, 2), 'EAP reliability']);
  if (model.usage) {
    items.push([
      model.usage.costUsd === null ? 'n/a' : `$${model.usage.costUsd.toFixed(2)}`,
      'estimated judge cost',
    ]);
  }
  const raised = model.flags.filter((flag) => flag.raised).length;
  items.push([String(raised), raised === 1 ? 'quality flag raised' : 'quality flags raised']);
  return `<div class="tiles">${items.map(([value, label]) => `<div class="tile"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`).join('')}</div>`;
}

/** The whole report as one HTML document. */
export function renderReport(model: ReportModel): string {
  const withGrades = model.grades !== null || model.rows.some((row) => row.grade !== null);
  const boundaries: ScaleBoundary[] = (model.grades?.boundaries ?? []).map((b) => ({
    label: `${b.lower} | ${b.upper}`,
    score: b.score,
  }));
  const marks = model.rows.map((row) => ({
    id: row.id,
    rank: row.rank,
    score: row.score,
    se: row.se,
    grade: row.grade,
    anchor: row.anchorGrade !== null,
  }));
  const scale =
    model.rows.length === 0
      ? section(
          'scale',
          'Scale',
          '<p class="note">No scores yet: the batch has no results (it is running, was cancelled, or failed before scoring).</p>',
        )
      : section(
          'scale',
          'Scale',
          `<p>Every essay at its score (logits, mean-centred), best on the left, with its 95 % interval (score ± 1.96 SE). Hover a mark for its id.</p>${scalePlot(marks, boundaries)}<p class="legend">Dot: score; bar: 95 % interval${withGrades ? '; orange dots: anchors; dashed lines: grade boundaries' : ''}.</p>`,
        );
  const warnings =
    model.warnings.length === 0
      ? ''
      : `<div class="warn"><b>Warnings</b><ul>${model.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`;
  const data = {
    kind: model.kind,
    title: model.title,
    generated_at: model.generatedAt,
    reliability: model.reliability,
    rows: model.rows,
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.title)} — cj report</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(model.title)}</h1><p class="sub">Comparative-judgement report written ${escapeHtml(model.generatedAt)} by cj-engine.</p>
<dl class="facts">${model.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
${tiles(model)}${warnings}
${scale}
${reliabilitySection(model)}
${gradesSection(model)}
${model.kind === 'batch' ? usageSection(model) : judgesSection(model)}
${wavesSection(model)}
${flagsSection(model)}
${section('ranking', 'Ranking', model.rows.length === 0 ? '<p class="note">No results yet.</p>' : `${rankingTable(model.rows, withGrades)}<p class="legend">Click a column to sort. Scores are Bradley–Terry logits, mean-centred; an essay's 95 % interval is score ± 1.96 SE.</p>`)}
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
