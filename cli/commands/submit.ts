import { ConfigError, coerceConfigAssignment } from '#domain/config.ts';
import { MOCK_PROFILE_NAMES } from '#domain/mock-judge.ts';
import type { CreateBatchRequest, JudgeOptions, MockJudgeOptions } from '../api.ts';
import type { FlagSpecs, ParsedArgs } from '../args.ts';
import { booleanFlag, numberFlag, stringFlag, stringListFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { loadEssays } from '../essays.ts';
import {
  isLlmProvider,
  LLM_JUDGE_FLAGS,
  LLM_PROVIDERS,
  llmJudgeFromArgs,
  rejectLlmFlagsWithout,
} from '../llm-judge.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';
import { submitBatch } from '../upload.ts';

export const SUBMIT_FLAGS: FlagSpecs = {
  budget: { type: 'number', valueName: 'N', description: 'most comparisons for the batch' },
  judge: {
    type: 'string',
    valueName: 'provider',
    description: 'judge provider: mock, openai, anthropic or openai-compatible',
  },
  ...LLM_JUDGE_FLAGS,
  'mock-profile': {
    type: 'string',
    valueName: 'name',
    description: `mock judge profile: ${MOCK_PROFILE_NAMES.join(', ')} (default: default)`,
  },
  'mock-failure-rate': {
    type: 'number',
    valueName: 'F',
    description: 'share of mock judge calls that fail (0..1)',
  },
  'mock-position-bias': {
    type: 'number',
    valueName: 'F',
    description: 'mock judge preference for the first-shown essay',
  },
  'mock-latency-ms': { type: 'number', valueName: 'ms', description: 'mock judge latency' },
  'mock-duplicate-callbacks': {
    type: 'number',
    valueName: 'K',
    description: 'duplicate callbacks the mock judge sends (1: every callback twice)',
  },
  'mock-drop-rate': {
    type: 'number',
    valueName: 'F',
    description: 'share of callbacks the mock judge never sends (0..1)',
  },
  'mock-seed': { type: 'number', valueName: 'X', description: 'seed of the mock judge (integer)' },
  set: {
    type: 'string',
    multiple: true,
    valueName: 'NAME=VALUE',
    description: 'engine config override (names and units in shared/domain/config.ts)',
  },
  'grade-scale': {
    type: 'string',
    valueName: 'G1,G2,...',
    description:
      'grades lowest first (e.g. F,E,D,C,B,A): project grades from the essays with anchor_grade',
  },
};

function requireFraction(flag: string, value: number | undefined): number | undefined {
  if (value !== undefined && (value < 0 || value > 1)) {
    throw new UsageError(`--${flag}`, `expected a number from 0 to 1, got ${value}`);
  }
  return value;
}

function requireNonNegative(
  flag: string,
  value: number | undefined,
  integer: boolean,
): number | undefined {
  if (value !== undefined && (value < 0 || (integer && !Number.isInteger(value)))) {
    throw new UsageError(
      `--${flag}`,
      `expected a ${integer ? 'whole ' : ''}number >= 0, got ${value}`,
    );
  }
  return value;
}

/** The profile a mock judge uses when `--mock-profile` is not given. */
const DEFAULT_MOCK_PROFILE = 'default';

/** Builds the `judge` part of `POST /batches` from the flags; undefined leaves the API default. */
export function judgeFromArgs(args: ParsedArgs, cwd?: string): JudgeOptions | undefined {
  const mockFlags = Object.keys(args.flags).filter((name) => name.startsWith('mock-'));
  const provider = stringFlag(args, 'judge') ?? (mockFlags.length > 0 ? 'mock' : undefined);
  if (provider === undefined) {
    rejectLlmFlagsWithout(args);
    return undefined;
  }
  if (provider !== 'mock' && mockFlags.length > 0) {
    throw new UsageError(`--${mockFlags[0]}`, `only applies with --judge mock`);
  }
  if (isLlmProvider(provider)) return llmJudgeFromArgs(args, provider, cwd);
  if (provider !== 'mock') {
    throw new UsageError(
      '--judge',
      `unknown provider "${provider}" (mock, ${LLM_PROVIDERS.join(', ')})`,
    );
  }
  rejectLlmFlagsWithout(args);
  const profile = stringFlag(args, 'mock-profile') ?? DEFAULT_MOCK_PROFILE;
  if (!(MOCK_PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new UsageError(
      '--mock-profile',
      `unknown profile "${profile}" (${MOCK_PROFILE_NAMES.join(', ')})`,
    );
  }
  const judge: MockJudgeOptions = { provider, profile };
  const failureRate = requireFraction('mock-failure-rate', numberFlag(args, 'mock-failure-rate'));
  if (failureRate !== undefined) judge.failure_rate = failureRate;
  const bias = numberFlag(args, 'mock-position-bias');
  if (bias !== undefined) judge.position_bias = bias;
  const latency = requireNonNegative('mock-latency-ms', numberFlag(args, 'mock-latency-ms'), true);
  if (latency !== undefined) judge.latency_ms = latency;
  const duplicates = requireNonNegative(
    'mock-duplicate-callbacks',
    numberFlag(args, 'mock-duplicate-callbacks'),
    false,
  );
  if (duplicates !== undefined) judge.duplicate_callbacks = duplicates;
  const dropRate = requireFraction('mock-drop-rate', numberFlag(args, 'mock-drop-rate'));
  if (dropRate !== undefined) judge.drop_rate = dropRate;
  const seed = requireNonNegative('mock-seed', numberFlag(args, 'mock-seed'), true);
  if (seed !== undefined) judge.seed = seed;
  return judge;
}

/**
 * Parses repeated `--set NAME=VALUE`, typing each value by the setting's default. Names and ranges
 * are the API's to check (per batch or deployment, docs/config.md): its 400 names the field.
 */
export function configFromArgs(args: ParsedArgs): Record<string, unknown> | undefined {
  const assignments = stringListFlag(args, 'set');
  if (assignments.length === 0) return undefined;
  const config: Record<string, unknown> = {};
  for (const assignment of assignments) {
    try {
      const [name, value] = coerceConfigAssignment(assignment);
      config[name] = value;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`--set ${error.field}`, error.message);
      throw error;
    }
  }
  return config;
}

/** The batch options shared by `submit` and `demo`. */
export function batchOptionsFromArgs(
  args: ParsedArgs,
  cwd?: string,
): Omit<CreateBatchRequest, 'essays'> {
  const options: Omit<CreateBatchRequest, 'essays'> = {};
  const budget = numberFlag(args, 'budget');
  if (budget !== undefined) {
    if (!Number.isInteger(budget) || budget < 1) {
      throw new UsageError('--budget', `expected a whole number >= 1, got ${budget}`);
    }
    options.budget = budget;
  }
  const judge = judgeFromArgs(args, cwd);
  if (judge) options.judge = judge;
  const config = configFromArgs(args);
  if (config) options.config = config;
  const scale = stringFlag(args, 'grade-scale');
  if (scale !== undefined) {
    // The API checks the labels (distinct, 2-30); an empty part is caught here with the flag named.
    const grades = scale.split(',').map((grade) => grade.trim());
    if (grades.some((grade) => grade === '')) {
      throw new UsageError('--grade-scale', `expected comma-separated grades, got "${scale}"`);
    }
    options.grade_scale = grades;
  }
  return options;
}

export const submitCommand: Command = {
  name: 'submit',
  summary: 'create a batch from a folder of .txt/.md files or a JSONL file',
  usage:
    'cj submit <dir|file.jsonl> [--budget N] [--judge mock|openai|anthropic|openai-compatible] [--mock-...] [--judge-model M] [--judge-endpoint NAME] [--judge-base-url URL] [--rubric FILE] [--assignment FILE] [--grade-scale G1,G2,...] [--set NAME=VALUE ...] [--json]',
  flags: {
    ...SUBMIT_FLAGS,
    json: { type: 'boolean', description: 'print {"batch_id": ...} as JSON' },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const [path, ...extra] = args.positionals;
    if (path === undefined) throw new UsageError('<dir|file.jsonl>', 'missing essays argument');
    if (extra.length > 0) throw new UsageError(extra[0] as string, 'unexpected argument');
    const options = batchOptionsFromArgs(args, io.cwd);
    const essays = loadEssays(path, io.cwd);
    const client = clientFor(resolveTarget(args, io.env));
    const json = booleanFlag(args, 'json');
    const outcome = await submitBatch(client, essays, {
      ...options,
      onPage: (uploaded, total) => {
        if (!json) io.stderr(`uploaded ${uploaded}/${total} essays\n`);
      },
    });
    if (json) {
      io.stdout(`${JSON.stringify({ batch_id: outcome.batchId })}\n`);
    } else {
      io.stdout(
        `batch ${outcome.batchId} created with ${essays.length} essays` +
          `${outcome.pages > 0 ? ` (${outcome.pages} pages)` : ''}\n` +
          `follow it with: cj wait ${outcome.batchId}\n`,
      );
    }
    return EXIT.OK;
  },
};
