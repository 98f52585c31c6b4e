import { describe, expect, it } from 'vitest';
import { type FlagSpecs, parseArgs } from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';

const SPECS: FlagSpecs = {
  budget: { type: 'number', description: 'budget' },
  json: { type: 'boolean', description: 'json' },
  profile: { type: 'string', description: 'profile' },
  set: { type: 'string', multiple: true, description: 'override' },
};

function usageErrorOf(action: () => unknown): UsageError {
  try {
    action();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseArgs', () => {
  it('types values, keeps positionals and collects repeatable flags', () => {
    // Prepare
    const argv = [
      'essays.jsonl',
      '--budget',
      '40',
      '--json',
      '--set=A=1',
      '--set',
      'B=2',
      '--profile=x',
    ];

    // Act
    const parsed = parseArgs(argv, SPECS);

    // Assess
    expect(parsed.positionals).toEqual(['essays.jsonl']);
    expect(parsed.flags).toEqual({ budget: 40, json: true, set: ['A=1', 'B=2'], profile: 'x' });
  });

  it('treats everything after -- as positional', () => {
    // Prepare
    const argv = ['--', '--json'];

    // Act
    const parsed = parseArgs(argv, SPECS);

    // Assess
    expect(parsed.positionals).toEqual(['--json']);
    expect(parsed.flags).toEqual({});
  });

  it.each([
    [['--nope'], '--nope', 'unknown flag'],
    [['--budget'], '--budget', 'missing value'],
    [['--budget', 'ten'], '--budget', 'expected a number'],
    [['--budget', ''], '--budget', 'expected a number'],
    [['--json=yes'], '--json', 'takes no value'],
    [['--profile', 'a', '--profile', 'b'], '--profile', 'more than once'],
  ])('rejects %j naming the flag', (argv, subject, text) => {
    // Prepare
    const parse = () => parseArgs(argv, SPECS);

    // Act
    const error = usageErrorOf(parse);

    // Assess
    expect(error.subject).toBe(subject);
    expect(error.message).toContain(text);
    expect(error.exitCode).toBe(2);
  });
});
