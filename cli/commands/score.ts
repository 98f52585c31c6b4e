/**
 * `cj score`: scores comparative-judgement decisions from a CSV file offline (no API, no cloud)
 * and reports reliability and judge fit. The pipeline itself lives in shared/scoring.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { scoreReportModel } from '#shared/report/model.ts';
import { renderReport } from '#shared/report/page.ts';
import { InputError } from '#shared/scoring/csv.ts';
import { type ColumnOptions, readDecisions } from '#shared/scoring/decisions.ts';
import { itemsCsv, reportText } from '#shared/scoring/format.ts';
import { type ScoreOptions, scoreDecisions } from '#shared/scoring/score.ts';
import type { ParsedArgs } from '../args.ts';
import { booleanFlag, numberFlag, stringFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { writeReportFile } from '../report-file.ts';

const FORMATS = ['json', 'csv', 'text'] as const;
type Format = (typeof FORMATS)[number];

/** Items listed in the human-readable summary (the JSON and CSV list all). */
const TEXT_TOP_ITEMS = 20;

function outputFormat(args: ParsedArgs): Format {
  const format = stringFlag(args, 'format');
  const json = booleanFlag(args, 'json');
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError('--format', `expected json, csv or text, got "${format}"`);
  }
  if (json && format !== undefined && format !== 'json') {
    throw new UsageError('--json', `conflicts with --format ${format}`);
  }
  return json ? 'json' : ((format as Format | undefined) ?? 'text');
}

const PRIORS = ['empirical_bayes', 'fixed'] as const;

function scoreOptions(args: ParsedArgs): ScoreOptions {
  const prior = stringFlag(args, 'prior');
  if (prior !== undefined && !(PRIORS as readonly string[]).includes(prior)) {
    throw new UsageError('--prior', `expected empirical_bayes or fixed, got "${prior}"`);
  }
  const alpha = numberFlag(args, 'alpha');
  const splits = numberFlag(args, 'splits');
  const seed = numberFlag(args, 'seed');
  if (alpha !== undefined && !(alpha > 0)) {
    throw new UsageError('--alpha', `must be a positive number, got ${alpha}`);
  }
  if (splits !== undefined && !(Number.isInteger(splits) && splits >= 1)) {
    throw new UsageError('--splits', `must be a positive integer, got ${splits}`);
  }
  if (seed !== undefined && !Number.isInteger(seed)) {
    throw new UsageError('--seed', `must be an integer, got ${seed}`);
  }
  return {
    ...(prior === undefined ? {} : { prior: prior as (typeof PRIORS)[number] }),
    ...(alpha === undefined ? {} : { alpha }),
    ...(splits === undefined ? {} : { splits }),
    ...(seed === undefined ? {} : { seed }),
  };
}

function columnOptions(args: ParsedArgs): ColumnOptions {
  const winnerCol = stringFlag(args, 'winner-col');
  const loserCol = stringFlag(args, 'loser-col');
  const judgeCol = stringFlag(args, 'judge-col');
  const firstCol = stringFlag(args, 'first-col');
  return {
    ...(winnerCol === undefined ? {} : { winnerCol }),
    ...(loserCol === undefined ? {} : { loserCol }),
    ...(judgeCol === undefined ? {} : { judgeCol }),
    ...(firstCol === undefined ? {} : { firstCol }),
  };
}

export const scoreCommand: Command = {
  name: 'score',
  summary:
    'score existing decisions from a CSV file offline: Bradley–Terry, reliability, order effect, judge fit',
  usage:
    'cj score <decisions.csv> [--json] [--format json|csv|text] [--report FILE] [--winner-col NAME] [--loser-col NAME] [--judge-col NAME] [--first-col NAME] [--prior empirical_bayes|fixed] [--alpha A] [--splits K] [--seed X]',
  flags: {
    json: { type: 'boolean', description: 'print the full report as JSON (same as --format json)' },
    format: {
      type: 'string',
      valueName: 'json|csv|text',
      description: 'json: full report; csv: one row per item; text: summary (default)',
    },
    'winner-col': {
      type: 'string',
      valueName: 'NAME',
      description: 'column holding the preferred item (default winner or candidate_chosen)',
    },
    'loser-col': {
      type: 'string',
      valueName: 'NAME',
      description: 'column holding the other item (default loser or candidate_not_chosen)',
    },
    'judge-col': {
      type: 'string',
      valueName: 'NAME',
      description: 'column holding the judge id (default judge, when present)',
    },
    'first-col': {
      type: 'string',
      valueName: 'NAME',
      description:
        'column holding the id of the item shown first, to estimate the order effect (default shown_first, when present)',
    },
    prior: {
      type: 'string',
      valueName: 'empirical_bayes|fixed',
      description:
        'prior of the scores: estimated from the data (default, as the engine) or the fixed weak ridge',
    },
    alpha: {
      type: 'number',
      valueName: 'A',
      description:
        'precision of the fixed prior (variance 1/A; default BT_PRIOR_ALPHA); implies --prior fixed',
    },
    splits: {
      type: 'number',
      valueName: 'K',
      description: 'split-half repetitions, median reported (default SPLIT_HALF_SPLITS)',
    },
    seed: { type: 'number', valueName: 'X', description: 'seed of the random halves (default 1)' },
    report: {
      type: 'string',
      valueName: 'FILE',
      description:
        'also write a self-contained HTML report there (scale plot, reliability, judge infit/outfit, ranking)',
    },
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const [path, ...extra] = args.positionals;
    if (path === undefined) throw new UsageError('<decisions.csv>', 'missing file');
    if (extra.length > 0) throw new UsageError(extra[0] as string, 'unexpected argument');
    const format = outputFormat(args);
    const options = scoreOptions(args);
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, path), 'utf8');
    } catch (error) {
      throw new UsageError(path, `cannot read file (${(error as NodeJS.ErrnoException).code})`);
    }
    let report: ReturnType<typeof scoreDecisions>;
    try {
      report = scoreDecisions(readDecisions(text, columnOptions(args)), options);
    } catch (error) {
      if (error instanceof InputError) throw new UsageError(path, error.message);
      throw error;
    }
    for (const warning of report.warnings) io.stderr(`cj score: warning: ${warning}\n`);
    const reportPath = stringFlag(args, 'report');
    if (reportPath !== undefined) {
      const html = renderReport(scoreReportModel(report, basename(path), new Date()));
      io.stderr(
        `cj score: report written to ${writeReportFile(io.cwd, reportPath, html, '--report')}\n`,
      );
    }
    if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else if (format === 'csv') io.stdout(itemsCsv(report));
    else io.stdout(reportText(report, TEXT_TOP_ITEMS));
    return EXIT.OK;
  },
};
