import { describe, expect, it } from 'vitest';
import {
  JUDGE_ENV_NAMES,
  judgeEnvironment,
  parseProviderList,
} from '#localstack/local-cloud/judge-env.ts';

describe('judge settings of the local cloud', () => {
  it('allows every provider by default and passes only the judge variables that are set', () => {
    // Prepare
    const shell = {
      OPENAI_API_KEY: ' sk-1 ',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      OPENAI_COMPATIBLE_API_KEY: '',
      AWS_SECRET_ACCESS_KEY: 'never-passed',
      HOME: '/root',
    };

    // Act
    const judges = judgeEnvironment(shell);

    // Assess
    expect(judges.functionEnv).toEqual({
      ALLOWED_PROVIDERS: 'mock,openai,anthropic,openai-compatible',
      OPENAI_API_KEY: 'sk-1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      ALLOW_LOOPBACK_BASE_URLS: 'true',
    });
    expect(judges.passedNames).toEqual(['OPENAI_API_KEY', 'ANTHROPIC_BASE_URL']);
    expect(JUDGE_ENV_NAMES).toEqual([
      'OPENAI_API_KEY',
      'ANTHROPIC_API_KEY',
      'OPENAI_COMPATIBLE_API_KEY',
      'OPENAI_BASE_URL',
      'ANTHROPIC_BASE_URL',
      'JUDGE_ENDPOINTS',
      'JUDGE_BATCH_ENDPOINTS',
    ]);
  });

  it('allows loopback base URLs and passes named endpoints (and the batch-capable ones) only with openai-compatible', () => {
    // Prepare
    const shell = {
      JUDGE_ENDPOINTS: '{"lab":"http://10.0.0.5:8000/v1"}',
      JUDGE_BATCH_ENDPOINTS: '["lab"]',
    };

    // Act
    const withCompatible = judgeEnvironment(shell, parseProviderList('mock,openai-compatible'));
    const mockOnly = judgeEnvironment(shell, parseProviderList('mock'));

    // Assess
    expect(withCompatible.functionEnv).toEqual({
      ALLOWED_PROVIDERS: 'mock,openai-compatible',
      JUDGE_ENDPOINTS: '{"lab":"http://10.0.0.5:8000/v1"}',
      JUDGE_BATCH_ENDPOINTS: '["lab"]',
      ALLOW_LOOPBACK_BASE_URLS: 'true',
    });
    expect(mockOnly.functionEnv).toEqual({ ALLOWED_PROVIDERS: 'mock' });
  });

  it('narrows to the providers given, passing only their variables', () => {
    // Prepare
    const shell = {
      OPENAI_API_KEY: 'sk-1',
      ANTHROPIC_API_KEY: 'sk-ant',
      OPENAI_BASE_URL: 'http://p',
    };

    // Act
    const judges = judgeEnvironment(shell, parseProviderList(' mock, openai ,openai'));

    // Assess
    expect(judges.allowedProviders).toEqual(['mock', 'openai']);
    expect(judges.functionEnv).toEqual({
      ALLOWED_PROVIDERS: 'mock,openai',
      OPENAI_API_KEY: 'sk-1',
      OPENAI_BASE_URL: 'http://p',
    });
    expect(judges.passedNames).toEqual(['OPENAI_API_KEY', 'OPENAI_BASE_URL']);
  });

  it.each([
    ['', 'name at least one provider'],
    [
      'mock,gemini',
      'unknown provider "gemini" (known: mock, openai, anthropic, openai-compatible)',
    ],
  ])('refuses the provider list %j', (raw, message) => {
    // Act
    const act = () => parseProviderList(raw);

    // Assess
    expect(act).toThrow(message);
  });
});
