/**
 * vitest globalSetup that runs before the local cloud's own (global-setup.ts): starts the local
 * cloud with the functions' AWS requests going through a proxy that forwards DynamoDB requests one
 * at a time. moto_server applies requests on threads without a lock and rolls a failed
 * TransactWriteItems back over writes other threads made meanwhile, losing counter increments
 * (measured in BENCHMARKS.md, Pipeline); real DynamoDB has no such window, so without this the
 * scenarios would test moto, not the engine. global-setup.ts then finds the local cloud running
 * and uses it; this teardown stops it. With CJ_TARGET=localstack, or when a local cloud is already
 * running, it does nothing.
 */
import { startCountingProxy } from '#bench/request-counter.ts';
import {
  isLocalStackTarget,
  localCloudStatus,
  startLocalCloud,
  stopLocalCloud,
} from '#localstack/local-cloud/index.ts';
import { INTEGRATION_SCHEDULE_INTERVAL_S } from '#test/helpers/local-cloud.ts';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (isLocalStackTarget() || (await localCloudStatus()).running) return undefined;
  let moto: string | undefined;
  const proxy = await startCountingProxy(() => moto);
  const interval =
    Number(process.env.CJ_LOCAL_SCHEDULE_INTERVAL_S) || INTEGRATION_SCHEDULE_INTERVAL_S;
  try {
    const info = await startLocalCloud({
      scheduleIntervalSeconds: interval,
      functionEnv: { AWS_ENDPOINT_URL: proxy.endpoint },
    });
    moto = info.endpoint;
  } catch (error) {
    await proxy.close();
    throw error;
  }
  return async () => {
    await stopLocalCloud();
    await proxy.close();
  };
}
