/**
 * Factories for the local cloud's own tests: the fixture template (same resource shapes as the
 * synthesized stack, with small test bundles), SQS messages as the API returns them, clients for a
 * local endpoint, and a polling wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Message, SQSClient } from '@aws-sdk/client-sqs';
import type { BatchRecord, EventSourcePoller } from '#localstack/local-cloud/sqs-poller.ts';
import type { LocalContext, Template } from '#localstack/local-cloud/template.ts';
import { readTemplate } from '#localstack/local-cloud/template.ts';

export const FIXTURE_TEMPLATE = fileURLToPath(
  new URL('./fixtures/local-cloud/LocalFixture.template.json', import.meta.url),
);
export const FIXTURE_ASSETS = fileURLToPath(new URL('./fixtures/local-cloud/', import.meta.url));

export function fixtureTemplate(): Template {
  return readTemplate(FIXTURE_TEMPLATE);
}

export function localContext(overrides: Partial<LocalContext> = {}): LocalContext {
  return {
    stackName: 'LocalFixture',
    region: 'eu-north-1',
    accountId: '123456789012',
    endpoint: 'http://127.0.0.1:4999',
    apiEndpoint: 'http://127.0.0.1:4998',
    ...overrides,
  };
}

/** What the fixture SQS handler does with a record (see asset.fixture-batch/index.mjs). */
export type FixtureOutcome = 'ok' | 'fail' | 'throw' | 'invalid' | 'sleep';

export function fixtureBody(outcome: FixtureOutcome, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ outcome, ...extra });
}

let sequence = 0;

/** A message as ReceiveMessage returns it (system attributes included). */
export function receivedMessage(overrides: Partial<Message> = {}): Message {
  sequence += 1;
  return {
    MessageId: `message-${sequence}`,
    ReceiptHandle: `receipt-${sequence}`,
    Body: fixtureBody('ok'),
    MD5OfBody: 'md5',
    Attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1764230400000',
      SenderId: 'AIDALOCAL',
      ApproximateFirstReceiveTimestamp: '1764230400001',
    },
    ...overrides,
  };
}

export function fifoMessage(group: string, overrides: Partial<Message> = {}): Message {
  const message = receivedMessage(overrides);
  message.Attributes = {
    ...message.Attributes,
    MessageGroupId: group,
    MessageDeduplicationId: `dedup-${sequence}`,
    SequenceNumber: String(10_000 + sequence),
  };
  return message;
}

/** An SQS client of a local moto_server, signing with its admin's keys (moto checks IAM). */
export function localSqs(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): SQSClient {
  return new SQSClient({ endpoint, region, credentials, useQueueUrlAsEndpoint: false });
}

const temporaryDirs: string[] = [];

/** A fresh folder under the OS temp dir; `removeTemporaryDirs()` deletes them all. */
export function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  temporaryDirs.push(dir);
  return dir;
}

export function removeTemporaryDirs(): void {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Collects every batch a poller completes. */
export function recordBatches(poller: EventSourcePoller): BatchRecord[] {
  const batches: BatchRecord[] = [];
  poller.on('batch', (batch) => batches.push(batch));
  return batches;
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
