import { defineConfig } from 'vitest/config';

// Three layers: fast pure/unit tests, CDK assertion tests, and integration tests
// that talk to a running local cloud (started by the global setup).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Starts the local cloud (or checks the LocalStack target) once and stops it at the end.
          globalSetup: ['test/integration/global-setup.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
    passWithNoTests: false,
    allowOnly: false,
  },
});
