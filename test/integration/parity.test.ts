/**
 * Production parity of the local cloud: the functions run on Lambda's Node major, each with its own
 * role's temporary credentials, and moto enforces the roles' policies, so a grant missing from the
 * template fails here instead of in AWS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '#cli/api.ts';
import { isSuccess } from '#domain/types.ts';
import { FUNCTIONS } from '#infra/functions.ts';
import { runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  ensureSynth,
  localCloudPaths,
  REPO_ROOT,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { readTemplate } from '#localstack/local-cloud/template.ts';
import { followBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { logLinesContaining, templateWithoutGrant } from '#test/helpers/iam.ts';
import { functionLogLines, integrationTarget } from '#test/helpers/integration-target.ts';
import { removeTemporaryDirs, temporaryDir, waitFor } from '#test/helpers/local-cloud-fixtures.ts';

/** Lambda's runtime of every function (infra/constructs/engine-function.ts: nodejs22.x). */
const LAMBDA_NODE_MAJOR = 'v22.';

describe('the local cloud runs the functions as Lambda does', () => {
  it('on Node 22: every function reports it at init and the status reports it', async () => {
    // Prepare
    const target = await integrationTarget();
    if (target.kind !== 'local') return; // LocalStack runs its own Lambda runtime images.

    // Act
    const inits = FUNCTIONS.map((spec) => ({
      name: spec.name,
      lines: functionLogLines(target, spec.name, 'INIT_START'),
    }));

    // Assess
    expect(target.functionNode?.startsWith(LAMBDA_NODE_MAJOR)).toBe(true);
    for (const { name, lines } of inits) {
      expect(lines.length, `${name} INIT_START lines`).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line, name).toMatchObject({ runtime: 'nodejs22.x', node: target.functionNode });
      }
    }
  });

  it('creates a batch with an Idempotency-Key once: 201, then 200 with the same batch', async () => {
    // Prepare: create-batch reads the batch a first try made (dynamodb:GetItem, granted).
    const target = await integrationTarget();
    const key = `parity-${Date.now()}`;
    const post = () =>
      fetch(`${target.api.baseUrl}/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ essays: makeEssays(3, { seed: 7 }), budget: 3 }),
      });

    // Act
    const first = await post();
    const again = await post();
    const [firstBody, againBody] = (await Promise.all([first.json(), again.json()])) as Array<{
      batch_id: string;
    }>;

    // Assess
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(againBody?.batch_id).toBe(firstBody?.batch_id);
  });

  it('answers a request with unknown credentials with 403, and the admin keys work', async () => {
    // Prepare
    const target = await integrationTarget();
    if (target.kind !== 'local') return; // LocalStack accepts any keys by default.
    const client = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
      new DynamoDBClient({
        endpoint: target.endpoint,
        region: target.region,
        credentials,
        maxAttempts: 1,
      });
    const stranger = client({ accessKeyId: 'AKIAUNKNOWN0000000000', secretAccessKey: 'guess' });
    const admin = client(target.credentials);

    // Act
    const refused = await stranger.send(new ListTablesCommand({})).catch((error: unknown) => error);
    const listed = await admin.send(new ListTablesCommand({}));

    // Assess
    expect(refused).toMatchObject({
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(listed.TableNames).toContain(target.outputs.TableName);
    stranger.destroy();
    admin.destroy();
  });
});

describe('a grant missing from the template', () => {
  afterAll(() => removeTemporaryDirs());

  // Each on a local cloud of its own, one after the other: two extra clouds started side by side
  // on a loaded 2-core machine answered HTTP 500 (load, not a grant) in one run of the layer.
  it.for([
    ['callback', 'dynamodb:UpdateItem', 'records callbacks in a transaction of updates'],
    ['judge', 'sqs:SendMessage', 'sends each callback'],
  ] as const)(
    'fails the batch, not silently, when %s loses %s (it %s)',
    // The cloud's own start is inside the test: 120 s left too little of it under CI load.
    { timeout: 240_000 },
    async ([name, action]) => {
      // Prepare: the synthesized template with one grant taken away.
      const paths = localCloudPaths();
      const templatePath = templatePathFor(REPO_ROOT, process.env.CJ_STAGE ?? 'dev');
      ensureSynth(paths, templatePath);
      const original = readTemplate(templatePath);
      const stackName = basename(templatePath).replace(/\.template\.json$/, '');
      const dir = temporaryDir('parity-missing-grant');
      const logDir = join(dir, 'logs');
      mkdirSync(logDir);
      const brokenPath = join(dir, basename(templatePath));
      writeFileSync(
        brokenPath,
        JSON.stringify(templateWithoutGrant(original, stackName, name, action)),
      );
      const cloud = await runLocalCloud({
        templatePath: brokenPath,
        assetDir: dirname(templatePath),
        logDir,
        scheduleIntervalSeconds: 1,
      });
      try {
        const api = new ApiClient({ baseUrl: cloud.apiUrl });

        // Act: the sweeper times out the comparisons whose callbacks never land.
        const created = await api.createBatch({
          essays: makeEssays(3, { seed: 3 }),
          budget: 3,
          judge: { provider: 'mock', profile: 'default', latency_ms: 0, seed: 3 },
          config: { COMPARISON_DEADLINE_SECONDS: 2, MAX_WAVES_WITHOUT_SUCCESS: 1 },
        });
        const run = await followBatch(api, created.batch_id, { timeoutMs: 90_000 });

        // Assess
        expect(isSuccess(run.final.status)).toBe(false);
        expect(run.final).toMatchObject({ status: 'FAILED', completed_comparisons: 0 });
        // The sweeper may end the batch before the function's refused call is logged.
        const denied = await waitFor(() => {
          const lines = logLinesContaining(join(logDir, `${name}.log`), 'AccessDenied');
          return lines.length > 0 ? lines : undefined;
        }, `AccessDenied in the ${name} log`);
        expect(denied.join('\n')).toContain(`not authorized to perform: ${action}`);
      } finally {
        await cloud.stop({ abort: true });
      }
    },
  );
});
