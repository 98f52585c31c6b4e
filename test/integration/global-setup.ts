/**
 * vitest globalSetup of the integration project: starts the local cloud unless it is already
 * running (or CJ_TARGET=localstack), and stops it afterwards only if it started it here.
 */
import type { TestProject } from 'vitest/node';
import {
  type CloudEndpoints,
  ensureLocalCloud,
  releaseLocalCloud,
} from '#test/helpers/local-cloud.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cloud: CloudEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cloud = await ensureLocalCloud();
  project.provide('cloud', cloud);
  return async () => {
    await releaseLocalCloud(cloud);
  };
}
