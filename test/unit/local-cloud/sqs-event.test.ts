import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchOutcome, toSqsEvent, toSqsRecord } from '#localstack/local-cloud/sqs-event.ts';
import { fifoMessage, receivedMessage } from '#test/helpers/local-cloud-fixtures.ts';

const STANDARD = {
  queueArn: 'arn:aws:sqs:us-east-1:123456789012:work',
  region: 'us-east-1',
  fifo: false,
};
const FIFO = {
  queueArn: 'arn:aws:sqs:us-east-1:123456789012:work.fifo',
  region: 'us-east-1',
  fifo: true,
};
const REPORTING = { reportBatchItemFailures: true, fifo: false };

describe('toSqsRecord', () => {
  it("builds exactly Lambda's SQS record from a received standard-queue message", () => {
    // Prepare
    const message = receivedMessage({
      MessageId: 'm-1',
      ReceiptHandle: 'r-1',
      Body: '{"a":1}',
      MD5OfBody: 'abc',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'callback' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      },
      MD5OfMessageAttributes: 'def',
    });

    // Act
    const record = toSqsRecord(message, STANDARD);

    // Assess
    expect(record).toEqual({
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: '{"a":1}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1764230400000',
        SenderId: 'AIDALOCAL',
        ApproximateFirstReceiveTimestamp: '1764230400001',
      },
      messageAttributes: {
        kind: {
          stringValue: 'callback',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        blob: {
          binaryValue: 'AQID',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
      md5OfBody: 'abc',
      md5OfMessageAttributes: 'def',
      eventSource: 'aws:sqs',
      eventSourceARN: STANDARD.queueArn,
      awsRegion: 'us-east-1',
    });
  });

  it('carries the FIFO attributes: group id, deduplication id and sequence number', () => {
    // Prepare
    const message = fifoMessage('batch-7');

    // Act
    const record = toSqsRecord(message, FIFO);

    // Assess
    expect(record.attributes.MessageGroupId).toBe('batch-7');
    expect(record.attributes.MessageDeduplicationId).toMatch(/^dedup-/);
    expect(record.attributes.SequenceNumber).toMatch(/^\d+$/);
    expect(record.eventSourceARN).toBe(FIFO.queueArn);
  });

  it('keeps the order of the received messages in Records', () => {
    // Prepare
    const messages = [receivedMessage(), receivedMessage(), receivedMessage()];

    // Act
    const event = toSqsEvent(messages, STANDARD);

    // Assess
    expect(event.Records.map((record) => record.messageId)).toEqual(
      messages.map((message) => message.MessageId),
    );
  });
});

describe('batchOutcome', () => {
  const records = () =>
    toSqsEvent([receivedMessage(), receivedMessage(), receivedMessage()], STANDARD).Records;

  it('deletes everything when the function reports no failures (null, {}, empty or null list)', () => {
    // Prepare
    const batch = records();
    const answers = [null, undefined, {}, { batchItemFailures: [] }, { batchItemFailures: null }];

    // Act
    const outcomes = answers.map((value) => batchOutcome(batch, { ok: true, value }, REPORTING));

    // Assess
    for (const outcome of outcomes) {
      expect(outcome.kind).toBe('success');
      expect(outcome.deleteIds).toEqual(batch.map((record) => record.messageId));
    }
  });

  it('deletes only the successes of a partial batch response', () => {
    // Prepare
    const batch = records();
    const failed = batch[1]?.messageId ?? '';

    // Act
    const outcome = batchOutcome(
      batch,
      { ok: true, value: { batchItemFailures: [{ itemIdentifier: failed }] } },
      REPORTING,
    );

    // Assess
    expect(outcome).toEqual({
      kind: 'partial',
      deleteIds: [batch[0]?.messageId, batch[2]?.messageId],
      failedIds: [failed],
    });
  });

  it.each([
    [
      'an unknown identifier',
      { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] },
      /not in the batch/,
    ],
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }, /missing or empty/],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }, /missing or empty/],
    ['a wrongly named key', { batchItemFailures: [{ id: 'x' }] }, /missing or empty/],
    ['a list that is not a list', { batchItemFailures: 'all' }, /not a list/],
    ['a string answer', 'done', /not an object/],
  ])('fails the whole batch for %s', (_label, value, reason) => {
    // Prepare
    const batch = records();

    // Act
    const outcome = batchOutcome(batch, { ok: true, value }, REPORTING);

    // Assess
    expect(outcome.kind).toBe('failure');
    expect(outcome.deleteIds).toEqual([]);
    expect(outcome.failedIds).toHaveLength(3);
    expect(outcome.kind === 'failure' && outcome.reason).toMatch(reason);
  });

  it('fails the whole batch when the function throws', () => {
    // Prepare
    const batch = records();

    // Act
    const outcome = batchOutcome(batch, { ok: false, reason: 'Error: boom' }, REPORTING);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failure', deleteIds: [], reason: 'Error: boom' });
  });

  it('ignores the answer when the mapping does not report batch item failures', () => {
    // Prepare
    const batch = records();
    const value = { batchItemFailures: [{ itemIdentifier: batch[0]?.messageId }] };

    // Act
    const outcome = batchOutcome(
      batch,
      { ok: true, value },
      { reportBatchItemFailures: false, fifo: false },
    );

    // Assess
    expect(outcome.kind).toBe('success');
    expect(outcome.deleteIds).toHaveLength(3);
  });

  it('FIFO: fails every later record of a group after its first failure, other groups unaffected', () => {
    // Prepare
    const batch = toSqsEvent(
      [
        fifoMessage('g1'),
        fifoMessage('g2'),
        fifoMessage('g1'),
        fifoMessage('g1'),
        fifoMessage('g2'),
      ],
      FIFO,
    ).Records;
    const ids = batch.map((record) => record.messageId);

    // Act
    const outcome = batchOutcome(
      batch,
      { ok: true, value: { batchItemFailures: [{ itemIdentifier: ids[2] }] } },
      { reportBatchItemFailures: true, fifo: true },
    );

    // Assess
    expect(outcome.deleteIds).toEqual([ids[0], ids[1], ids[4]]);
    expect(outcome.failedIds).toEqual([ids[2], ids[3]]);
  });

  it('partitions the batch: every record is deleted or failed, never both (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('g1', 'g2', 'g3'), fc.boolean()), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.boolean(),
        (spec, fifo) => {
          // Prepare
          const batch = toSqsEvent(
            spec.map(([group]) => fifoMessage(group)),
            fifo ? FIFO : STANDARD,
          ).Records;
          const reported = batch
            .filter((_, index) => spec[index]?.[1])
            .map((record) => ({ itemIdentifier: record.messageId }));

          // Act
          const outcome = batchOutcome(
            batch,
            { ok: true, value: { batchItemFailures: reported } },
            { reportBatchItemFailures: true, fifo },
          );

          // Assess
          const all = [...outcome.deleteIds, ...outcome.failedIds].sort();
          expect(all).toEqual(batch.map((record) => record.messageId).sort());
          for (const { itemIdentifier } of reported) {
            expect(outcome.failedIds).toContain(itemIdentifier);
          }
          if (!fifo) expect(outcome.failedIds).toHaveLength(reported.length);
        },
      ),
    );
  });
});
