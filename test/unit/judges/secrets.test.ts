/**
 * API keys: from the environment locally, from Secrets Manager when a secret name is configured
 * (read once per container), a failed lookup not cached.
 */
import { describe, expect, it } from 'vitest';
import { createKeySource, keyFromSecretString, secretNameFor } from '#shared/judges/secrets.ts';

function countingReader(values: Record<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    readSecret: async (name: string) => {
      reads.push(name);
      return values[name];
    },
  };
}

describe('secretNameFor', () => {
  it('reads the stack list PROVIDER_SECRET_NAMES and prefers a per-provider name', () => {
    // Prepare
    const env = {
      PROVIDER_SECRET_NAMES: 'openai=cj/openai,anthropic=cj/anthropic',
      ANTHROPIC_SECRET_NAME: 'own/anthropic',
    };

    // Act
    const names = [
      secretNameFor('openai', env),
      secretNameFor('anthropic', env),
      secretNameFor('openai-compatible', env),
    ];

    // Assess
    expect(names).toEqual(['cj/openai', 'own/anthropic', undefined]);
  });
});

describe('keyFromSecretString', () => {
  it.each([
    ['sk-plain\n', 'sk-plain'],
    ['{"api_key": "sk-json"}', 'sk-json'],
    ['{"apiKey": "sk-camel"}', 'sk-camel'],
    ['{"other": 1}', undefined],
    ['{not json', undefined],
    ['  ', undefined],
  ])('reads %j as %s', (secret, key) => {
    // Act
    const read = keyFromSecretString(secret);

    // Assess
    expect(read).toBe(key);
  });
});

describe('createKeySource', () => {
  it('uses the environment key when no secret is configured', async () => {
    // Prepare
    const reader = countingReader({});
    const keys = createKeySource({
      env: { OPENAI_API_KEY: 'sk-env', ANTHROPIC_API_KEY: '' },
      readSecret: reader.readSecret,
    });

    // Act
    const openai = await keys.apiKey('openai');
    const anthropic = await keys.apiKey('anthropic');

    // Assess
    expect(openai).toBe('sk-env');
    expect(anthropic).toBeUndefined();
    expect(reader.reads).toEqual([]);
  });

  it('reads a configured secret once per container and ignores the environment key', async () => {
    // Prepare
    const reader = countingReader({ 'cj/openai': '{"api_key":"sk-secret"}' });
    const keys = createKeySource({
      env: { PROVIDER_SECRET_NAMES: 'openai=cj/openai', OPENAI_API_KEY: 'sk-env' },
      readSecret: reader.readSecret,
    });

    // Act
    const first = await keys.apiKey('openai');
    const second = await keys.apiKey('openai');

    // Assess
    expect([first, second]).toEqual(['sk-secret', 'sk-secret']);
    expect(reader.reads).toEqual(['cj/openai']);
  });

  it('does not cache a failed secret lookup', async () => {
    // Prepare
    let calls = 0;
    const keys = createKeySource({
      env: { PROVIDER_SECRET_NAMES: 'anthropic=cj/anthropic' },
      readSecret: async () => {
        calls += 1;
        if (calls === 1) throw new Error('throttled');
        return 'sk-later';
      },
    });

    // Act
    const failed = keys.apiKey('anthropic');
    await expect(failed).rejects.toThrow('throttled');
    const retried = await keys.apiKey('anthropic');

    // Assess
    expect(retried).toBe('sk-later');
    expect(calls).toBe(2);
  });
});
