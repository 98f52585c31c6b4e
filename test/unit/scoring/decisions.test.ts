import { describe, expect, it } from 'vitest';
import { InputError } from '#shared/scoring/csv.ts';
import { readDecisions } from '#shared/scoring/decisions.ts';

/** The InputError thrown by `act`, so a test can check both its message and its line. */
function inputErrorOf(act: () => unknown): InputError {
  try {
    act();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('readDecisions: columns', () => {
  it('recognises winner,loser and indexes items and judges by first appearance', () => {
    // Prepare
    const text = 'winner,loser,judge\nb,a,j1\nc, b ,j2\nb,c,j1\n';

    // Act
    const decisions = readDecisions(text);

    // Assess
    expect(decisions.itemIds).toEqual(['b', 'a', 'c']);
    expect(Array.from(decisions.winners)).toEqual([0, 2, 0]);
    expect(Array.from(decisions.losers)).toEqual([1, 0, 2]);
    expect(decisions.judgeIds).toEqual(['j1', 'j2']);
    expect(Array.from(decisions.judges ?? [])).toEqual([0, 1, 0]);
    expect(Array.from(decisions.lines)).toEqual([2, 3, 4]);
    expect(decisions.columns).toEqual({
      winner: 'winner',
      loser: 'loser',
      judge: 'judge',
      first: null,
    });
    expect(decisions.order).toBeNull();
  });

  it('recognises candidate_chosen,candidate_not_chosen in any case and order, without a judge', () => {
    // Prepare
    const text = 'Candidate_Not_Chosen , time, CANDIDATE_CHOSEN\nx,3,y\n';

    // Act
    const decisions = readDecisions(text);

    // Assess
    expect(decisions.itemIds).toEqual(['y', 'x']);
    expect(decisions.judges).toBeNull();
    expect(decisions.columns).toEqual({
      winner: 'candidate_chosen',
      loser: 'candidate_not_chosen',
      judge: null,
      first: null,
    });
  });

  it('uses named columns, including a named judge column', () => {
    // Prepare
    const text = 'better,worse,rater\np,q,r1\n';

    // Act
    const decisions = readDecisions(text, {
      winnerCol: 'better',
      loserCol: 'worse',
      judgeCol: 'rater',
    });

    // Assess
    expect(decisions.itemIds).toEqual(['p', 'q']);
    expect(decisions.judgeIds).toEqual(['r1']);
  });

  it('reads which item was shown first: +1 for the winner, −1 for the loser, 0 when blank', () => {
    // Prepare
    const text = 'winner,loser,Shown_First\na,b,a\nb,c,c\nc,a,\n';

    // Act
    const decisions = readDecisions(text);
    const named = readDecisions('winner,loser,left\na,b,b\n', { firstCol: 'left' });

    // Assess
    expect(Array.from(decisions.order ?? [])).toEqual([1, -1, 0]);
    expect(decisions.columns.first).toBe('shown_first');
    expect(Array.from(named.order ?? [])).toEqual([-1]);
  });

  it('skips blank lines and keeps the file line numbers of later rows', () => {
    // Act
    const decisions = readDecisions('winner,loser\n\na,b\n\n\nb,a\n');

    // Assess
    expect(Array.from(decisions.lines)).toEqual([3, 6]);
  });
});

describe('readDecisions: bad input names the problem and the line', () => {
  it.each([
    ['an empty file', '', {}, null, /empty file/],
    ['only blank lines', '\n\n', {}, null, /empty file/],
    ['a header without rows', 'winner,loser\n', {}, 1, /no decisions/],
    [
      'missing default columns',
      'a,b\nx,y\n',
      {},
      1,
      /missing columns.*winner,loser or candidate_chosen/,
    ],
    [
      'a missing named column',
      'winner,loser\nx,y\n',
      { loserCol: 'worse' },
      1,
      /missing column "worse"/,
    ],
    [
      'a missing judge column',
      'winner,loser\nx,y\n',
      { judgeCol: 'rater' },
      1,
      /missing column "rater"/,
    ],
    [
      'an item compared with itself',
      'winner,loser\na,b\nc, c\n',
      {},
      3,
      /"c" is compared with itself/,
    ],
    ['a blank winner id', 'winner,loser\na,b\n  ,b\n', {}, 3, /blank winner id/],
    ['a blank loser id', 'winner,loser\na,b\nb,a\na,""\n', {}, 4, /blank loser id/],
    ['a blank judge id', 'judge,winner,loser\nj,a,b\n,b,a\n', {}, 3, /blank judge id/],
    ['a short row', 'winner,loser\na,b\nc\n', {}, 3, /expected 2 fields.*found 1/],
    ['a long row', 'winner,loser\na,b,c\n', {}, 2, /expected 2 fields.*found 3/],
    ['broken quoting', 'winner,loser\n"a,b\n', {}, 2, /never closed/],
    [
      'a shown-first id that is neither item of the row',
      'winner,loser,shown_first\na,b,a\nb,c,d\n',
      {},
      3,
      /shown_first "d" is neither the winner nor the loser/,
    ],
    [
      'a missing named shown-first column',
      'winner,loser\nx,y\n',
      { firstCol: 'left' },
      1,
      /missing column "left"/,
    ],
  ])('refuses %s', (_name, text, options, line, message) => {
    // Act
    const error = inputErrorOf(() => readDecisions(text, options));

    // Assess
    expect(error.message).toMatch(message);
    expect(error.line).toBe(line);
    if (line !== null) expect(error.message).toMatch(new RegExp(`^line ${line}: `));
  });
});
