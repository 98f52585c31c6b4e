/**
 * Each function runs with its own role's temporary credentials, renewed before they expire: with
 * 12-second sessions renewed 10 s before expiry, the functions and their event source mappings
 * keep working after their first credentials have expired (moto refuses expired ones).
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import type { BatchRecord } from '#localstack/local-cloud/sqs-poller.ts';
import {
  FIXTURE_TEMPLATE,
  fixtureBody,
  localSqs,
  waitFor,
} from '#test/helpers/local-cloud-fixtures.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

/** Shorter than AWS allows (900 s), so the test sees a whole session end. */
const SESSION = { durationSeconds: 12, renewBeforeSeconds: 10 };

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await runLocalCloud({
    templatePath: FIXTURE_TEMPLATE,
    pollWaitSeconds: 1,
    scheduleIntervalSeconds: 3_600,
    roleSession: SESSION,
  });
}, 90_000);

afterAll(async () => {
  await cloud?.stop();
});

async function keysSeenByEcho(): Promise<{ key: string; token: string }> {
  const env = (await (await fetch(`${cloud.apiUrl}env`)).json()) as Record<string, string>;
  return { key: env.AWS_ACCESS_KEY_ID ?? '', token: env.AWS_SESSION_TOKEN ?? '' };
}

describe("the functions' role credentials", () => {
  it('are each function’s own session, renewed before they expire, and keep working after', async () => {
    // Prepare
    const echo = cloud.host.find('EchoApiFunction1A2B3C4D');
    const worker = cloud.host.find('WorkerFunction');
    const first = await keysSeenByEcho();
    const firstExpiry = cloud.sessions.get(echo?.logicalId ?? '')?.current().expiration;
    const poller = cloud.pollers.find(
      (candidate) => candidate.mapping.logicalId === 'WorkerMapping',
    );
    const batches: BatchRecord[] = [];
    const pollErrors: Error[] = [];
    poller?.on('batch', (batch) => batches.push(batch));
    poller?.on('pollError', (error) => pollErrors.push(error));

    // Act: past the first credentials' expiry, call the HTTP function and feed the queue.
    await waitFor(
      () => (Date.now() > (firstExpiry?.getTime() ?? 0) + 1_000 ? true : undefined),
      'the first session to expire',
      30_000,
    );
    const later = await keysSeenByEcho();
    const sqs = localSqs(cloud.endpoint, cloud.region, cloud.credentials);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: cloud.outputs.WorkQueueUrl ?? '',
        MessageBody: fixtureBody('ok'),
      }),
    );
    const delivered = await waitFor(() => batches[0], 'the worker batch after renewal', 20_000);
    sqs.destroy();

    // Assess
    expect(first.key).toMatch(/^ASIA/);
    expect(first.token).not.toBe('');
    expect(later.key).toMatch(/^ASIA/);
    expect(later.key).not.toBe(first.key);
    expect(cloud.sessions.get(worker?.logicalId ?? '')?.sessionName).toBe('LocalFixture-worker');
    expect(delivered.result.ok).toBe(true);
    expect(delivered.outcome).toMatchObject({ kind: 'success', deleteIds: [expect.any(String)] });
    // Receive and delete ran with the worker role's renewed session: no call was refused.
    expect(pollErrors).toEqual([]);
  });
});
