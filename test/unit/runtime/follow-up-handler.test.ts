/**
 * sqsHandlerWithFollowUp: one follow-up per distinct key of the records that succeeded, after all
 * of them; a failed follow-up redelivers exactly its key's records; nothing succeeded → an error.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqsHandlerWithFollowUp } from '#shared/runtime/middleware.ts';
import { lambdaContext, sqsEvent, sqsRecord } from '#test/helpers/events.ts';

beforeAll(() => {
  // The logger writes JSON lines: keep the test output clean.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
});

const keyOf = (record: SQSRecord) => (JSON.parse(record.body) as { key: string }).key;

function recordingHandler(options: { failRecord?: string; failKey?: string } = {}) {
  const events: string[] = [];
  const handler = sqsHandlerWithFollowUp(
    () => async (record) => {
      if (record.messageId === options.failRecord) throw new Error('bad record');
      events.push(`record ${record.messageId}`);
      return keyOf(record);
    },
    async (key: string) => {
      events.push(`follow-up ${key}`);
      if (key === options.failKey) throw new Error('follow-up failed');
    },
  );
  return { handler, events };
}

describe('sqsHandlerWithFollowUp', () => {
  it('runs one follow-up per key, after every record', async () => {
    // Prepare
    const records = ['a', 'b', 'a', 'a', 'b'].map((key, i) =>
      sqsRecord({ key }, { messageId: `m${i}` }),
    );
    const { handler, events } = recordingHandler();

    // Act
    const response = (await handler(sqsEvent(records), lambdaContext())) as SQSBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(events).toEqual([
      'record m0',
      'record m1',
      'record m2',
      'record m3',
      'record m4',
      'follow-up a',
      'follow-up b',
    ]);
  });

  it('leaves a key without a follow-up when its only record failed, and fails that record alone', async () => {
    // Prepare
    const records = [
      sqsRecord({ key: 'a' }, { messageId: 'm0' }),
      sqsRecord({ key: 'b' }, { messageId: 'm1' }),
    ];
    const { handler, events } = recordingHandler({ failRecord: 'm1' });

    // Act
    const response = (await handler(sqsEvent(records), lambdaContext())) as SQSBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(events).toEqual(['record m0', 'follow-up a']);
  });

  it('fails every record of a key whose follow-up failed, and only those', async () => {
    // Prepare
    const records = ['a', 'b', 'a'].map((key, i) => sqsRecord({ key }, { messageId: `m${i}` }));
    const { handler } = recordingHandler({ failKey: 'a' });

    // Act
    const response = (await handler(sqsEvent(records), lambdaContext())) as SQSBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'm0' },
      { itemIdentifier: 'm2' },
    ]);
  });

  it('reports an invocation whose every record failed in its follow-up as an error', async () => {
    // Prepare
    const records = ['a', 'a'].map((key, i) => sqsRecord({ key }, { messageId: `m${i}` }));
    const { handler } = recordingHandler({ failKey: 'a' });

    // Act
    const invocation = handler(sqsEvent(records), lambdaContext());

    // Assess
    await expect(invocation).rejects.toThrow(/all 2 records of the invocation failed/);
  });
});
