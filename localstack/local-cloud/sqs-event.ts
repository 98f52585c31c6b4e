/**
 * Lambda's SQS event source semantics as pure functions: the event shape built from received
 * messages, and which messages a function's answer lets the poller delete.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttribute, SQSRecord } from 'aws-lambda';

export interface EventSource {
  queueArn: string;
  region: string;
  fifo: boolean;
}

const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const;

export function toSqsRecord(message: Message, source: EventSource): SQSRecord {
  const attributes: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTES) {
    const value = message.Attributes?.[name];
    if (value !== undefined) attributes[name] = value;
  }
  const messageAttributes: Record<string, SQSMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toRecordAttribute(value);
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecord['attributes'],
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes
      ? { md5OfMessageAttributes: message.MD5OfMessageAttributes }
      : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  } as SQSRecord;
}

/** SQS API attribute (PascalCase, binary as bytes) → Lambda event attribute (camelCase, base64). */
function toRecordAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  const base64 = (bytes: Uint8Array | undefined) =>
    bytes === undefined ? undefined : Buffer.from(bytes).toString('base64');
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((bytes) => base64(bytes) ?? ''),
    dataType: (value.DataType ?? 'String') as SQSMessageAttribute['dataType'],
  };
}

export function toSqsEvent(messages: readonly Message[], source: EventSource): SQSEvent {
  return { Records: messages.map((message) => toSqsRecord(message, source)) };
}

export type BatchOutcome =
  | { kind: 'success'; deleteIds: string[]; failedIds: string[] }
  | { kind: 'partial'; deleteIds: string[]; failedIds: string[] }
  | { kind: 'failure'; deleteIds: string[]; failedIds: string[]; reason: string };

/**
 * Which records to delete after an invocation. A thrown error fails the whole batch; with
 * ReportBatchItemFailures the answer lists failures by messageId, and an answer Lambda cannot
 * read (not an object, not a list, an identifier missing, empty or unknown) fails the whole batch.
 * FIFO: once a record of a message group fails, every later record of that group fails too, so
 * the group's order survives the retry.
 */
export function batchOutcome(
  records: readonly SQSRecord[],
  invocation: { ok: true; value: unknown } | { ok: false; reason: string },
  options: { reportBatchItemFailures: boolean; fifo: boolean },
): BatchOutcome {
  const allIds = records.map((record) => record.messageId);
  const failAll = (reason: string): BatchOutcome => ({
    kind: 'failure',
    deleteIds: [],
    failedIds: allIds,
    reason,
  });
  if (!invocation.ok) return failAll(invocation.reason);
  if (!options.reportBatchItemFailures)
    return { kind: 'success', deleteIds: allIds, failedIds: [] };

  const reported = reportedFailures(invocation.value, new Set(allIds));
  if (typeof reported === 'string') return failAll(reported);

  const failed = new Set(reported);
  if (options.fifo) {
    const failedGroups = new Set<string>();
    for (const record of records) {
      const group = record.attributes.MessageGroupId ?? '';
      if (failedGroups.has(group)) failed.add(record.messageId);
      else if (failed.has(record.messageId)) failedGroups.add(group);
    }
  }
  if (failed.size === 0) return { kind: 'success', deleteIds: allIds, failedIds: [] };
  return {
    kind: 'partial',
    deleteIds: allIds.filter((id) => !failed.has(id)),
    failedIds: allIds.filter((id) => failed.has(id)),
  };
}

/** The reported failing ids, or a string saying why the answer is invalid. */
function reportedFailures(value: unknown, batchIds: ReadonlySet<string>): string[] | string {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    return 'invalid partial batch response: not an object';
  }
  const list = (value as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list))
    return 'invalid partial batch response: batchItemFailures is not a list';
  const ids: string[] = [];
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return 'invalid partial batch response: an itemIdentifier is missing or empty';
    }
    if (!batchIds.has(id)) {
      return `invalid partial batch response: itemIdentifier ${id} is not in the batch`;
    }
    ids.push(id);
  }
  return ids;
}
