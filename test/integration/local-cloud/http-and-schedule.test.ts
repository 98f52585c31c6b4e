import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InvocationRecord } from '#localstack/local-cloud/function-host.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  FIXTURE_TEMPLATE,
  removeTemporaryDirs,
  temporaryDir,
  waitFor,
} from '#test/helpers/local-cloud-fixtures.ts';

// Real servers and redelivery after visibility timeouts: slower than pure unit tests on a busy machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

let cloud: LocalCloud;
let logDir: string;
const invocations: InvocationRecord[] = [];

// Its own moto_server and function host; the schedule runs every second instead of every minute.
beforeAll(async () => {
  logDir = temporaryDir('local-cloud-logs');
  cloud = await runLocalCloud({
    templatePath: FIXTURE_TEMPLATE,
    logDir,
    pollWaitSeconds: 1,
    scheduleIntervalSeconds: 1,
    functionEnv: { EXTRA_SETTING: 'from-start-options' },
  });
  cloud.host.on('invocation', (record) => invocations.push(record));
}, 90_000);

afterAll(async () => {
  await cloud?.stop();
  removeTemporaryDirs();
});

describe('the local HTTP API', () => {
  it('sends a payload v2.0 event to the route’s function and maps its structured answer back', async () => {
    // Prepare
    const url = `${cloud.apiUrl}echo/b%201/items?page=2`;

    // Act
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Request-Tag': 'abc' },
      body: '{"essays":[1]}',
    });
    const event = (await response.json()) as APIGatewayProxyEventV2;

    // Assess
    expect(response.status).toBe(201);
    expect(response.headers.get('x-route')).toBe('POST /echo/{id}/items');
    expect(response.headers.get('set-cookie')).toBe('session=abc');
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /echo/{id}/items',
      rawPath: '/echo/b%201/items',
      pathParameters: { id: 'b 1' },
      queryStringParameters: { page: '2' },
      body: '{"essays":[1]}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/echo/b%201/items' }, stage: '$default' },
    });
    expect(event.headers['x-request-tag']).toBe('abc');
  });

  it('answers a plain object with 200 JSON, a thrown error with 500, an unknown route with 404', async () => {
    // Act
    const plain = await fetch(`${cloud.apiUrl}plain`);
    const failed = await fetch(`${cloud.apiUrl}fail`);
    const missing = await fetch(`${cloud.apiUrl}batches`);

    // Assess
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toEqual({ hello: 'world' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ message: 'Internal Server Error' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Not Found' });
  });

  it("holds requests and answers to Lambda's 6 MB: 413 for a bigger event, 500 for a bigger answer", async () => {
    // Prepare: under API Gateway's 10 MB body limit, over Lambda's 6 MB invocation payload.
    const body = JSON.stringify({ blob: 'x'.repeat(6_400_000) });

    // Act
    const request = await fetch(`${cloud.apiUrl}echo/1/items`, { method: 'POST', body });
    const answer = await fetch(`${cloud.apiUrl}big`);
    const refused = invocations
      .filter((record) => !record.result.ok)
      .map((record) => record.result);

    // Assess
    expect(request.status).toBe(413);
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ message: 'Internal Server Error' });
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          error: expect.objectContaining({ errorType: 'RequestEntityTooLargeException' }),
        }),
        expect.objectContaining({
          error: expect.objectContaining({ errorType: 'Function.ResponseSizeTooLarge' }),
        }),
      ]),
    );
  });

  it('decodes a base64 answer into binary bytes', async () => {
    // Act
    const response = await fetch(`${cloud.apiUrl}binary`);

    // Assess
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 2, 255]);
  });

  it("runs the function with the template's environment resolved to local names, pointed at moto", async () => {
    // Act
    const response = await fetch(`${cloud.apiUrl}env`);
    const env = (await response.json()) as Record<string, string>;

    // Assess
    expect(env).toMatchObject({
      TABLE_NAME: 'local-fixture-table',
      WORK_QUEUE_URL: `${cloud.endpoint}/123456789012/fixture-work`,
      SUBSTITUTED: `fixture-work/arn:aws:events:${cloud.region}:123456789012:event-bus/LocalFixture-bus`,
      AWS_ENDPOINT_URL: cloud.endpoint,
      AWS_REGION: cloud.region,
      AWS_LAMBDA_FUNCTION_NAME: 'LocalFixture-EchoApiFunction1A2B3C4D',
      EXTRA_SETTING: 'from-start-options',
    });
    // Its role's temporary credentials (an STS session), as Lambda sets them; never the admin's.
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(env.AWS_SESSION_TOKEN).toEqual(expect.any(String));
    expect(env.AWS_ACCESS_KEY_ID).not.toBe(cloud.credentials.accessKeyId);
    // A function sees its own variables only, not another function's or the host's.
    expect(env.WORK_QUEUE_NAME).toBeUndefined();
    expect(env.VITEST).toBeUndefined();
  });
});

describe('scheduled functions', () => {
  it('invokes the scheduled function with a Scheduled Event at the overridden interval', async () => {
    // Act
    const ticks = await waitFor(() => {
      const found = invocations.filter((record) => record.function.shortName === 'tick');
      return found.length >= 2 ? found : undefined;
    }, 'two ticks');

    // Assess
    const event = ticks[0]?.event as ScheduledEvent;
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      region: cloud.region,
      resources: [`arn:aws:events:${cloud.region}:123456789012:rule/LocalFixture-TickSchedule`],
      detail: {},
    });
    expect(ticks.every((record) => record.result.ok)).toBe(true);
  });

  it("writes the function's output to <logDir>/<function>.log as JSON lines", async () => {
    // Prepare
    const file = join(logDir, 'tick.log');

    // Act
    const lines = await waitFor(() => {
      try {
        const text = readFileSync(file, 'utf8').trim();
        return text.includes('"tick"') ? text.split('\n') : undefined;
      } catch {
        return undefined;
      }
    }, 'tick log lines');

    // Assess
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual({ message: 'tick', source: 'aws.events' });
    expect(records.some((record) => record.message === 'a plain text line')).toBe(true);
  });
});
