/**
 * Queue message validation. A malformed message is logged (field paths only, never the body),
 * counted in `MalformedMessages{FunctionName}`, and fails its record so SQS redelivers it and
 * finally moves it to the dead-letter queue; the other records of the batch are unaffected.
 */
import type { SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { describeIssues } from '#messages/validation.ts';
import { MetricName, type Telemetry } from './telemetry.ts';

export class MalformedMessageError extends Error {
  constructor(readonly messageId: string) {
    super(`malformed message ${messageId}`);
    this.name = 'MalformedMessageError';
  }
}

export function parseRecord<S extends z.ZodType>(
  schema: S,
  record: SQSRecord,
  functionName: string,
  telemetry: Telemetry,
): z.output<S> {
  let json: unknown;
  let issues: Array<{ field: string; message: string }> = [];
  try {
    json = JSON.parse(record.body) as unknown;
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    issues = describeIssues(parsed.error);
  } catch {
    issues = [{ field: '', message: 'body is not valid JSON' }];
  }
  telemetry.error('malformed_message', {
    function_name: functionName,
    message_id: record.messageId,
    receive_count: receiveCount(record),
    issues,
  });
  telemetry.countWithDimension(MetricName.MalformedMessages, 'FunctionName', functionName);
  throw new MalformedMessageError(record.messageId);
}

export function receiveCount(record: SQSRecord): number {
  const count = Number(record.attributes.ApproximateReceiveCount);
  return Number.isFinite(count) && count > 0 ? count : 1;
}
