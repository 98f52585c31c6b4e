import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  batchEndpointSecretMap,
  endpointSecretMap,
  providerSecretMap,
  resolveSettings,
  SettingsError,
} from '#infra/settings.ts';

function contextOf(values: Record<string, unknown>): (name: string) => unknown {
  return (name) => values[name];
}

describe('deployment settings', () => {
  it('default to the dev stage, the mock provider and the engine comparison deadline', () => {
    // Prepare
    const empty = contextOf({});

    // Act
    const settings = resolveSettings(empty);

    // Assess
    expect(settings.stage).toBe('dev');
    expect(settings.allowedProviders).toEqual(['mock']);
    expect(settings.providerSecrets).toEqual([]);
    expect(settings.comparisonDeadlineSeconds).toBe(DEFAULT_CONFIG.COMPARISON_DEADLINE_SECONDS);
    expect(settings.providerRateLimits).toEqual({});
  });

  it('parse CLI strings into typed values', () => {
    // Prepare
    const cli = contextOf({
      stage: 'prod',
      allowedProviders: 'mock, openai',
      providerSecrets: 'openai=cj/openai-key',
      judgeMaxConcurrency: '8',
      logRetentionDays: '90',
      providerRateLimits: '{"openai":{"requests_per_minute":500,"tokens_per_minute":200000}}',
    });

    // Act
    const settings = resolveSettings(cli);

    // Assess
    expect(settings.allowedProviders).toEqual(['mock', 'openai']);
    expect(settings.judgeMaxConcurrency).toBe(8);
    expect(settings.logRetentionDays).toBe(90);
    expect(settings.providerRateLimits).toEqual({
      openai: { requests_per_minute: 500, tokens_per_minute: 200_000 },
    });
    expect([...providerSecretMap(settings)]).toEqual([['openai', 'cj/openai-key']]);
  });

  it.each([
    ['stage', 'Prod_Stage'],
    ['judgeMaxConcurrency', '1'],
    ['comparisonDeadlineSeconds', 'soon'],
    ['providerSecrets', 'openai'],
    ['logRetentionDays', '31'],
    ['allowedProviders', ''],
    ['providerRateLimits', '{"openai":{"requests_per_minute":0}}'],
    ['providerRateLimits', 'openai=500'],
    ['maxEssaysPerBatch', String(DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH + 1)],
    ['maxEssayChars', String(DEFAULT_CONFIG.MAX_ESSAY_CHARS + 1)],
    ['maxBudgetPerBatch', '1000001'],
    ['maxBudgetPerBatch', '0'],
    ['adminPrincipals', 'alice'],
    ['adminPrincipals', 'arn:aws:iam::123:user/short-account'],
    ['apiRateLimit', '0'],
    ['apiRateLimit', '10001'],
    ['apiBurstLimit', '5001'],
    ['apiBurstLimit', 'lots'],
    ['maxBatchesInFlightPerPrincipal', '0'],
    ['maxEssaysInFlight', '1000001'],
    ['maxEssaysInFlight', String(DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH - 1)],
  ])('reject a bad %s, naming the setting', (name, value) => {
    // Prepare
    const bad = contextOf({ [name]: value });

    // Act
    const act = () => resolveSettings(bad);

    // Assess
    expect(act).toThrow(SettingsError);
    expect(act).toThrow(name);
  });

  it('set the deployment maxima from context, defaulting to the config module', () => {
    // Prepare
    const lowered = contextOf({
      maxEssaysPerBatch: '500',
      maxEssayChars: 20000,
      maxBudgetPerBatch: '1000000',
    });

    // Act
    const defaults = resolveSettings(contextOf({}));
    const settings = resolveSettings(lowered);

    // Assess
    expect(defaults.maxEssaysPerBatch).toBe(DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH);
    expect(defaults.maxEssayChars).toBe(DEFAULT_CONFIG.MAX_ESSAY_CHARS);
    expect(defaults.maxBudgetPerBatch).toBe(DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH);
    expect(settings.maxEssaysPerBatch).toBe(500);
    expect(settings.maxEssayChars).toBe(20_000);
    expect(settings.maxBudgetPerBatch).toBe(1_000_000);
  });

  it('set the API throttling and the in-flight caps from context, defaulting to the config module', () => {
    // Prepare
    const set = contextOf({
      apiRateLimit: '5',
      apiBurstLimit: 9,
      maxBatchesInFlightPerPrincipal: '2',
      maxEssaysInFlight: '30',
      maxEssaysPerBatch: '30',
    });

    // Act
    const defaults = resolveSettings(contextOf({}));
    const settings = resolveSettings(set);

    // Assess
    expect(defaults).toMatchObject({
      apiRateLimit: DEFAULT_CONFIG.API_RATE_LIMIT_PER_SECOND,
      apiBurstLimit: DEFAULT_CONFIG.API_BURST_LIMIT,
      maxBatchesInFlightPerPrincipal: DEFAULT_CONFIG.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
      maxEssaysInFlight: DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT,
    });
    expect(settings).toMatchObject({
      apiRateLimit: 5,
      apiBurstLimit: 9,
      maxBatchesInFlightPerPrincipal: 2,
      maxEssaysInFlight: 30,
    });
  });

  it('reject an essays-in-flight total below the largest batch, which could never start', () => {
    // Prepare
    const tooLow = contextOf({ maxEssaysPerBatch: '500', maxEssaysInFlight: '499' });

    // Act
    const act = () => resolveSettings(tooLow);

    // Assess
    expect(act).toThrow('maxEssaysInFlight (499) is below maxEssaysPerBatch (500)');
  });

  it('name no admin by default, and the admins given as a comma list of ARNs', () => {
    // Prepare
    const named = contextOf({
      adminPrincipals: 'arn:aws:iam::123456789012:role/Ops, arn:aws:iam::123456789012:user/alice',
    });

    // Act
    const defaults = resolveSettings(contextOf({}));
    const settings = resolveSettings(named);

    // Assess
    expect(defaults.adminPrincipals).toEqual([]);
    expect(settings.adminPrincipals).toEqual([
      'arn:aws:iam::123456789012:role/Ops',
      'arn:aws:iam::123456789012:user/alice',
    ]);
  });

  it('reject a real provider without an API key secret', () => {
    // Prepare
    const noSecret = contextOf({ allowedProviders: 'mock,openai' });

    // Act
    const act = () => resolveSettings(noSecret);

    // Assess
    expect(act).toThrow(SettingsError);
    expect(act).toThrow('provider "openai" is allowed but has no API key secret');
  });

  it('reject a secret for a provider that is not allowed', () => {
    // Prepare
    const stray = contextOf({ providerSecrets: 'openai=cj/openai-key' });

    // Act
    const act = () => resolveSettings(stray);

    // Assess
    expect(act).toThrow('which allowedProviders does not allow');
  });

  it('name OpenAI-compatible endpoints, each with its own secret or none', () => {
    // Prepare
    const cli = contextOf({
      allowedProviders: 'mock,openai-compatible',
      judgeEndpoints: 'local-llama=https://llm.internal.example/v1, spare=http://10.1.2.3:8000/v1',
      judgeEndpointSecrets: 'local-llama=cj/llama-key',
    });

    // Act
    const settings = resolveSettings(cli);

    // Assess
    expect(settings.judgeEndpoints).toEqual({
      'local-llama': 'https://llm.internal.example/v1',
      spare: 'http://10.1.2.3:8000/v1',
    });
    expect([...endpointSecretMap(settings)]).toEqual([['local-llama', 'cj/llama-key']]);
  });

  it('declare which named endpoints speak the OpenAI Batch API, and only their secrets for provider batches', () => {
    // Prepare
    const cli = contextOf({
      allowedProviders: 'mock,openai-compatible',
      judgeEndpoints: 'local-llama=https://llm.internal.example/v1,lab=https://lab.example/v1',
      judgeEndpointSecrets: 'local-llama=cj/llama-key,lab=cj/lab-key',
      judgeBatchEndpoints: ' lab ',
    });

    // Act
    const settings = resolveSettings(cli);
    const unset = resolveSettings(contextOf({}));

    // Assess
    expect(settings.judgeBatchEndpoints).toEqual(['lab']);
    expect([...batchEndpointSecretMap(settings)]).toEqual([['lab', 'cj/lab-key']]);
    expect(unset.judgeBatchEndpoints).toEqual([]);
  });

  it.each([
    ['a query', 'x=https://h.example/v1?a=1', 'query'],
    ['a fragment', 'x=https://h.example/v1#f', 'fragment'],
    ['user info', 'x=https://u:p@h.example/v1', 'user info'],
    ['another scheme', 'x=file:///etc/passwd', 'http(s)'],
    ['a provider name', 'openai=https://h.example/v1', 'judge provider'],
    ['no URL', 'x', 'not name=url'],
  ])('reject an endpoint with %s', (_name, judgeEndpoints, message) => {
    // Prepare
    const bad = contextOf({ allowedProviders: 'mock,openai-compatible', judgeEndpoints });

    // Act
    const act = () => resolveSettings(bad);

    // Assess
    expect(act).toThrow(SettingsError);
    expect(act).toThrow('judgeEndpoints');
    expect(act).toThrow(message);
  });

  it.each([
    [
      'openai-compatible allowed with no endpoint',
      { allowedProviders: 'mock,openai-compatible' },
      'no endpoint is named',
    ],
    [
      'endpoints without openai-compatible',
      { judgeEndpoints: 'x=https://h.example/v1' },
      'does not allow "openai-compatible"',
    ],
    [
      'one key for every compatible server',
      {
        allowedProviders: 'mock,openai-compatible',
        judgeEndpoints: 'x=https://h.example/v1',
        providerSecrets: 'openai-compatible=cj/shared',
      },
      'keys are per endpoint',
    ],
    [
      'a secret for an endpoint not named',
      {
        allowedProviders: 'mock,openai-compatible',
        judgeEndpoints: 'x=https://h.example/v1',
        judgeEndpointSecrets: 'y=cj/y-key',
      },
      'which judgeEndpoints does not name',
    ],
    [
      'a batch-capable endpoint not named',
      {
        allowedProviders: 'mock,openai-compatible',
        judgeEndpoints: 'x=https://h.example/v1',
        judgeBatchEndpoints: 'x,y',
      },
      'endpoint "y" is declared batch-capable but judgeEndpoints does not name it',
    ],
    [
      'a batch-capable endpoint with a bad name',
      {
        allowedProviders: 'mock,openai-compatible',
        judgeEndpoints: 'x=https://h.example/v1',
        judgeBatchEndpoints: 'X!',
      },
      'judgeBatchEndpoints',
    ],
  ])('reject %s', (_name, values, message) => {
    // Act
    const act = () => resolveSettings(contextOf(values));

    // Assess
    expect(act).toThrow(SettingsError);
    expect(act).toThrow(message);
  });
});
