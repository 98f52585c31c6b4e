/**
 * The local dashboard (`cj dashboard`): every batch on the local cloud with its status, progress
 * toward its completion denominator and pending callbacks — the first row of the CloudWatch
 * dashboard (pending callbacks in total and per batch), on this machine. Pure: the server
 * (cli/dashboard.ts) polls the API and serves what these functions write. The page itself is a
 * shell whose one small script fetches `rows` (this module's HTML for the latest snapshot) every
 * few seconds, so the rows are written in one place and tested without a browser.
 */
import { isTerminal } from '#domain/types.ts';
import type { BatchSummary } from '#messages/state.ts';
import { escapeHtml, fixed } from './html.ts';

export interface DashboardRow {
  batchId: string;
  status: string;
  failureReason: string | null;
  essays: number;
  /** Completed and failed comparisons: what counts toward the completion denominator. */
  done: number;
  denominator: number;
  /** done / denominator, 0..1 (1 once terminal). */
  progress: number;
  pending: number;
  iteration: number;
  createdAt: string;
  updatedAt: string;
  terminal: boolean;
}

/** What the poller last saw, and how its polling goes. */
export interface DashboardSnapshot {
  rows: DashboardRow[];
  /** ISO instant of the last complete refresh; null before the first. */
  refreshedAt: string | null;
  /** The last failure while it is being retried (null once a refresh succeeds). */
  retrying: { message: string; failures: number; maxFailures: number; nextInMs: number } | null;
}

export interface DashboardTotals {
  batches: number;
  running: number;
  pending: number;
}

/** One row per batch, newest first (ties by id). */
export function dashboardRows(states: readonly BatchSummary[]): DashboardRow[] {
  return states
    .map((state) => {
      const done = state.completed_comparisons + state.failed_comparisons;
      const terminal = isTerminal(state.status);
      const denominator = state.completion_denominator;
      const progress = terminal ? 1 : denominator > 0 ? Math.min(1, done / denominator) : 0;
      return {
        batchId: state.batch_id,
        status: state.status,
        failureReason: state.failure_reason ?? null,
        essays: state.essay_count,
        done,
        denominator,
        progress,
        pending: state.pending_callbacks,
        iteration: state.current_iteration,
        // Older APIs and test doubles may omit the instants: an empty one sorts last.
        createdAt: state.created_at ?? '',
        updatedAt: state.updated_at ?? '',
        terminal,
      };
    })
    .sort((x, y) => y.createdAt.localeCompare(x.createdAt) || x.batchId.localeCompare(y.batchId));
}

export function dashboardTotals(rows: readonly DashboardRow[]): DashboardTotals {
  return {
    batches: rows.length,
    running: rows.filter((row) => !row.terminal).length,
    pending: rows.reduce((sum, row) => sum + row.pending, 0),
  };
}

function statusCell(row: DashboardRow): string {
  const kind = !row.terminal ? 'active' : row.status === 'FAILED' ? 'failed' : 'done';
  const reason = row.failureReason ? ` (${escapeHtml(row.failureReason)})` : '';
  return `<td class="status ${kind}">${escapeHtml(row.status)}${reason}</td>`;
}

function progressCell(row: DashboardRow): string {
  const percent = row.progress * 100;
  return `<td class="progress"><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${fixed(percent, 0)}"><div style="width:${fixed(percent, 1)}%"></div></div><span>${row.done} / ${row.denominator} (${fixed(percent, 0)} %)</span></td>`;
}

/** The part of the page that refreshes: the totals and one table row per batch. */
export function renderDashboardRows(snapshot: DashboardSnapshot): string {
  const totals = dashboardTotals(snapshot.rows);
  const health = snapshot.retrying
    ? `<p class="warn" id="retrying">${escapeHtml(snapshot.retrying.message)} — retrying in ${fixed(snapshot.retrying.nextInMs / 1000, 1)} s (failure ${snapshot.retrying.failures} in a row; gives up at ${snapshot.retrying.maxFailures}). Showing the last state read.</p>`
    : '';
  const refreshed = snapshot.refreshedAt
    ? `updated <time id="refreshed-at" datetime="${escapeHtml(snapshot.refreshedAt)}">${escapeHtml(snapshot.refreshedAt.slice(11, 19))} UTC</time>`
    : 'waiting for the first read…';
  const tiles = `<div class="tiles"><div class="tile"><div class="label">pending callbacks (total)</div><div class="value" id="total-pending">${totals.pending}</div></div><div class="tile"><div class="label">batches running</div><div class="value" id="running">${totals.running}</div></div><div class="tile"><div class="label">batches</div><div class="value" id="batches">${totals.batches}</div></div></div>`;
  const body =
    snapshot.rows.length === 0
      ? '<tr class="empty"><td colspan="8">No batches on this cloud yet: <code>cj submit essays.jsonl</code> starts one.</td></tr>'
      : snapshot.rows
          .map(
            (row) =>
              `<tr data-batch="${escapeHtml(row.batchId)}" data-status="${escapeHtml(row.status)}"><td><code>${escapeHtml(row.batchId)}</code></td>${statusCell(row)}${progressCell(row)}<td class="n pending">${row.pending}</td><td class="n">${row.essays}</td><td class="n">${row.iteration}</td><td>${escapeHtml(row.updatedAt.replace('T', ' ').slice(0, 19))}</td><td><a href="batches/${encodeURIComponent(row.batchId)}/report">report</a></td></tr>`,
          )
          .join('');
  return `${health}<p class="meta">${refreshed}</p>${tiles}<table id="batches-table"><thead><tr><th>batch</th><th>status</th><th>progress toward completion</th><th class="n">pending callbacks</th><th class="n">essays</th><th class="n">waves</th><th>last change (UTC)</th><th></th></tr></thead><tbody>${body}</tbody></table>`;
}

const STYLE = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430}
body{margin:0 auto;max-width:1100px;padding:20px 24px}
h1{font-size:1.4rem;margin:0 0 4px}
.meta{color:#5b6575;font-size:.85rem;margin:4px 0 12px}
.warn{background:#fff4e5;border:1px solid #f0b35b;padding:8px 10px;border-radius:4px}
.tiles{display:flex;gap:12px;margin:0 0 16px}
.tile{border:1px solid #d9dee7;border-radius:6px;padding:10px 16px;min-width:160px}
.tile .label{color:#5b6575;font-size:.8rem}
.tile .value{font-size:1.8rem;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid #e6e9ef;text-align:left;white-space:nowrap}
th{font-weight:600;color:#3a4455}
.n{text-align:right;font-variant-numeric:tabular-nums}
.status.active{color:#1f5fbf}.status.done{color:#1b7a3a}.status.failed{color:#b3261e}
.progress{min-width:260px}
.bar{display:inline-block;vertical-align:middle;width:140px;height:10px;background:#e6e9ef;border-radius:5px;overflow:hidden;margin-right:8px}
.bar div{height:100%;background:#3b7dd8}
.status.done+.progress .bar div{background:#2f9e5b}
a{color:#1f5fbf}
`;

/**
 * The page: a shell that loads `rows` every `refreshMs` and swaps it in. A failed fetch (the CLI
 * stopped) leaves the last rows and says so; the server does the retrying against the API.
 */
export function renderDashboardPage(refreshMs: number, apiUrl: string): string {
  const script = `(()=>{const el=document.getElementById('live');const note=document.getElementById('offline');async function tick(){try{const r=await fetch('rows',{cache:'no-store'});if(!r.ok)throw new Error(String(r.status));el.innerHTML=await r.text();note.hidden=true}catch(e){note.hidden=false}setTimeout(tick,${Math.max(250, Math.round(refreshMs))})}tick()})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>cj dashboard</title><style>${STYLE}</style></head>
<body><h1>cj dashboard</h1><p class="meta">Every batch on <code>${escapeHtml(apiUrl)}</code>, refreshed every ${fixed(refreshMs / 1000, 1)} s. Pending callbacks first, as on the CloudWatch dashboard.</p>
<p class="warn" id="offline" hidden>The dashboard server does not answer (was <code>cj dashboard</code> stopped?): showing the last rows.</p>
<div id="live"><p class="meta">loading…</p></div>
<script>${script}</script></body></html>
`;
}
