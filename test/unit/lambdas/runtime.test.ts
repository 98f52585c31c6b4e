/**
 * Runtime helpers: environment parsing names the missing variable, HTTP errors map to
 * `{error, field, message}` with the right status, and bodies/path parameters are validated.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConfigError, DEFAULT_CONFIG } from '#domain/config.ts';
import { EnvError, inFlightCapsFromEnv, limitsFromEnv, readEnv } from '#shared/runtime/env.ts';
import { errorResponse, jsonBody, pathParameter } from '#shared/runtime/http.ts';
import { badRequest, conflict, notFound } from '#shared/workflow/http-errors.ts';
import { httpEvent } from '#test/helpers/events.ts';

const bodyOf = (response: ReturnType<typeof errorResponse>) =>
  JSON.parse(String(response.body)) as unknown;

describe('inFlightCapsFromEnv', () => {
  it('reads the in-flight caps, the config defaults when unset, and refuses one out of range', () => {
    // Act
    const defaults = inFlightCapsFromEnv({});
    const set = inFlightCapsFromEnv({
      MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: '2',
      MAX_ESSAYS_IN_FLIGHT: '30',
    });
    const zero = () => inFlightCapsFromEnv({ MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: '0' });

    // Assess
    expect(defaults).toEqual({
      maxBatchesPerPrincipal: DEFAULT_CONFIG.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
      maxEssaysInFlight: DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT,
    });
    expect(set).toEqual({ maxBatchesPerPrincipal: 2, maxEssaysInFlight: 30 });
    expect(zero).toThrow('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL');
  });
});

describe('limitsFromEnv', () => {
  it('reads the deployment maxima, the config defaults when unset', () => {
    // Act
    const defaults = limitsFromEnv({});
    const set = limitsFromEnv({
      MAX_ESSAYS_PER_BATCH: '100',
      MAX_ESSAY_CHARS: '2000',
      MAX_BUDGET_PER_BATCH: '1000000',
    });

    // Assess
    expect(defaults).toEqual({
      maxEssaysPerBatch: DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH,
      maxEssayChars: DEFAULT_CONFIG.MAX_ESSAY_CHARS,
      maxBudgetPerBatch: DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH,
    });
    expect(set).toEqual({
      maxEssaysPerBatch: 100,
      maxEssayChars: 2000,
      maxBudgetPerBatch: 1_000_000,
    });
  });

  it.each([
    ['MAX_ESSAYS_PER_BATCH', String(DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH + 1)],
    ['MAX_ESSAY_CHARS', 'many'],
    ['MAX_BUDGET_PER_BATCH', '1000001'],
  ])('refuses %s=%s at cold start, naming it', (name, value) => {
    // Act
    const act = () => limitsFromEnv({ [name]: value });

    // Assess
    expect(act).toThrow(EnvError);
    expect(act).toThrow(name);
  });
});

describe('readEnv', () => {
  it('reads the variables asked for, with the contract defaults', () => {
    // Act
    const env = readEnv(['TABLE_NAME', 'ALLOWED_PROVIDERS', 'POWERTOOLS_METRICS_NAMESPACE'], {
      TABLE_NAME: 'cj-table',
      ALLOWED_PROVIDERS: 'mock, openai ,',
    });

    // Assess
    expect(env).toEqual({
      TABLE_NAME: 'cj-table',
      ALLOWED_PROVIDERS: ['mock', 'openai'],
      POWERTOOLS_METRICS_NAMESPACE: 'CjEngine',
    });
    expect(readEnv(['ALLOWED_PROVIDERS'], {})).toEqual({ ALLOWED_PROVIDERS: ['mock'] });
  });

  it('reads the provider rate limits as JSON validated like the setting, none by default', () => {
    // Act
    const set = readEnv(['PROVIDER_RATE_LIMITS'], {
      PROVIDER_RATE_LIMITS: '{"openai":{"requests_per_minute":500}}',
    });
    const unset = readEnv(['PROVIDER_RATE_LIMITS'], {});
    const notJson = () => readEnv(['PROVIDER_RATE_LIMITS'], { PROVIDER_RATE_LIMITS: 'openai=5' });
    const zero = () =>
      readEnv(['PROVIDER_RATE_LIMITS'], {
        PROVIDER_RATE_LIMITS: '{"openai":{"requests_per_minute":0}}',
      });

    // Assess
    expect(set).toEqual({ PROVIDER_RATE_LIMITS: { openai: { requests_per_minute: 500 } } });
    expect(unset).toEqual({ PROVIDER_RATE_LIMITS: {} });
    expect(notJson).toThrow(/PROVIDER_RATE_LIMITS/);
    expect(zero).toThrow(/PROVIDER_RATE_LIMITS/);
  });

  it('fails with the name of a missing or empty variable', () => {
    // Act
    const missing = () => readEnv(['TABLE_NAME', 'CALLBACK_QUEUE_URL'], { TABLE_NAME: 't' });
    const empty = () => readEnv(['TABLE_NAME'], { TABLE_NAME: '  ' });

    // Assess
    expect(missing).toThrow(EnvError);
    expect(missing).toThrow(/CALLBACK_QUEUE_URL/);
    expect(empty).toThrow(/TABLE_NAME/);
  });
});

describe('HTTP error mapping', () => {
  it.each([
    [badRequest('budget', 'too small'), 400, { error: 'validation_error', field: 'budget' }],
    [notFound('b1'), 404, { error: 'not_found', field: 'id' }],
    [conflict('not yet', 'essays'), 409, { error: 'conflict', field: 'essays' }],
    [new ConfigError('MIN_SUCCESS_RATE', 'bad'), 400, { field: 'config.MIN_SUCCESS_RATE' }],
    [new Error('boom with details'), 500, { error: 'internal_error', message: 'internal error' }],
  ])('maps %o to its status and body', (error, status, body) => {
    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(bodyOf(response)).toMatchObject(body);
  });

  it('names the first bad field of a zod error as a client reads it', () => {
    // Prepare
    const schema = z.object({ essays: z.array(z.object({ text: z.string().min(1) })) });
    const parsed = schema.safeParse({ essays: [{ text: 'ok' }, { text: '' }] });

    // Act
    const response = errorResponse(parsed.error);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ error: 'validation_error', field: 'essays[1].text' });
  });

  it('parses JSON bodies (base64 too), treats an absent body as {}, and rejects bad JSON', () => {
    // Prepare
    const plain = httpEvent('POST /batches', { body: { budget: 3 } });
    const encoded = {
      ...plain,
      body: Buffer.from('{"budget":4}').toString('base64'),
      isBase64Encoded: true,
    };
    const empty = httpEvent('POST /batches/{id}/start', { pathParameters: { id: 'b1' } });
    const broken = httpEvent('POST /batches', { body: '{' });

    // Act / Assess
    expect(jsonBody(plain)).toEqual({ budget: 3 });
    expect(jsonBody(encoded)).toEqual({ budget: 4 });
    expect(jsonBody(empty)).toEqual({});
    expect(() => jsonBody(broken)).toThrow(/not valid JSON/);
    expect(pathParameter(empty, 'id')).toBe('b1');
    expect(() => pathParameter(plain, 'id')).toThrow(/id/);
  });
});
