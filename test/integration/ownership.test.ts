/**
 * Ownership on the local cloud (docs/security.md), through SigV4-signed requests the local API
 * checks in moto's IAM as API Gateway's IAM authorization does: principal B gets 404 on principal
 * A's batch for get, results, waves, add-essays, start and cancel; each lists only their own; the
 * local cloud's admin sees and lists every batch; the same Idempotency-Key from two principals
 * makes two batches (and one per principal); a bad signature is a 403 before any function runs;
 * `cj list` signing with A's keys (CJ_SIGV4=1) lists A's batches.
 */

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, type BatchSummary } from '#cli/api.ts';
import { createSigV4Signer } from '#cli/signing.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type IntegrationTarget, integrationTarget } from '#test/helpers/integration-target.ts';

const CJ = fileURLToPath(new URL('../../cli/cj.mjs', import.meta.url));

/** `cj list --json` in its own process, signing with `credentials` (CJ_SIGV4=1) as a user would. */
function cjListAs(
  target: IntegrationTarget,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CJ, 'list', '--json'],
      {
        env: {
          ...process.env,
          CJ_API_URL: target.api.baseUrl,
          CJ_SIGV4: '1',
          AWS_REGION: target.region,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: '',
          AWS_PROFILE: '',
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A new IAM user allowed to call the API, signing as itself. */
async function principal(target: IntegrationTarget, name: string) {
  const iam = new IAMClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: target.credentials,
  });
  try {
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: name,
        PolicyName: 'invoke-api',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }],
        }),
      }),
    );
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('no access key');
    const credentials = {
      accessKeyId: AccessKey.AccessKeyId,
      secretAccessKey: AccessKey.SecretAccessKey,
    };
    return { client: signedClient(target, credentials), credentials };
  } finally {
    iam.destroy();
  }
}

function signedClient(
  target: IntegrationTarget,
  credentials: { accessKeyId: string; secretAccessKey: string },
): ApiClient {
  return new ApiClient({
    baseUrl: target.api.baseUrl,
    signer: createSigV4Signer(target.region, credentials),
  });
}

/** The HTTP status a call fails with (0 when it succeeds). */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 0;
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

async function allIds(client: ApiClient): Promise<string[]> {
  return (await client.listBatches()).map((batch: BatchSummary) => batch.batch_id);
}

describe('who owns a batch on the local cloud', () => {
  it("hides A's batches from B, lists each their own, and shows the admin everything", async () => {
    // Prepare: two principals and the local cloud's admin, each signing its requests.
    const target = await integrationTarget();
    const suffix = Date.now().toString(36);
    const { client: alice, credentials: aliceKeys } = await principal(target, `alice-${suffix}`);
    const { client: bob } = await principal(target, `bob-${suffix}`);
    const admin = signedClient(target, target.credentials);
    const forged = signedClient(target, {
      accessKeyId: target.credentials.accessKeyId,
      secretAccessKey: 'not-the-secret',
    });
    const essays = makeEssays(4, { seed: 31 });
    const judge = { provider: 'mock' as const, profile: 'default', latency_ms: 10, seed: 31 };

    // Act
    const paged = await alice.createBatch({ essay_count: essays.length, judge });
    const running = await alice.createBatch({ essays, judge, budget: 8 });
    const refused = {
      get: await statusOf(() => bob.getBatch(paged.batch_id)),
      results: await statusOf(() => bob.getResultsPage(running.batch_id)),
      waves: await statusOf(() => bob.getWaves(running.batch_id)),
      essays: await statusOf(() => bob.addEssays(paged.batch_id, essays, 0)),
      start: await statusOf(() => bob.startBatch(paged.batch_id)),
      cancel: await statusOf(() => bob.cancelBatch(paged.batch_id)),
      missing: await statusOf(() => bob.getBatch('no-such-batch')),
    };
    const stillPending = await alice.getBatch(paged.batch_id);
    const adminRead = await admin.getBatch(paged.batch_id);
    const adminCancel = await admin.cancelBatch(paged.batch_id);
    const fromAlice = await alice.createBatch({ essays, judge, budget: 4 }, `key-${suffix}`);
    const retried = await alice.createBatch({ essays, judge, budget: 4 }, `key-${suffix}`);
    const fromBob = await bob.createBatch({ essays, judge, budget: 4 }, `key-${suffix}`);
    const lists = {
      alice: await allIds(alice),
      bob: await allIds(bob),
      admin: await allIds(admin),
    };
    const forgedStatus = await statusOf(() => forged.listBatchesPage());
    const cliAsAlice = await cjListAs(target, aliceKeys);

    // Assess: B is told A's batch does not exist, whatever it asks, and changed nothing.
    expect(refused).toEqual({
      get: 404,
      results: 404,
      waves: 404,
      essays: 404,
      start: 404,
      cancel: 404,
      missing: 404,
    });
    expect(stillPending).toMatchObject({ status: 'PENDING_ESSAYS', essays_stored: 0 });
    expect(adminRead.batch_id).toBe(paged.batch_id);
    expect(adminCancel.status).toBe('CANCELLED');
    // One batch per principal and key; ids are random, not the key's.
    expect(retried.batch_id).toBe(fromAlice.batch_id);
    expect(fromBob.batch_id).not.toBe(fromAlice.batch_id);
    expect(fromAlice.batch_id).not.toContain(suffix);
    // Each lists their own, newest first; the admin lists all of them.
    expect(lists.alice).toEqual([fromAlice.batch_id, running.batch_id, paged.batch_id]);
    expect(lists.bob).toEqual([fromBob.batch_id]);
    for (const id of [...lists.alice, ...lists.bob]) expect(lists.admin).toContain(id);
    expect(forgedStatus).toBe(403);
    // The CLI signing with Alice's keys is Alice.
    expect(cliAsAlice.code, cliAsAlice.stderr).toBe(0);
    const cliIds = (JSON.parse(cliAsAlice.stdout) as { batches: BatchSummary[] }).batches.map(
      (batch) => batch.batch_id,
    );
    expect(cliIds).toEqual(lists.alice);
  }, 120_000);
});
