/**
 * A local cloud that lives inside this process (for `cj demo --own-cloud`, i.e. `npm start`):
 * moto_server (which applies DynamoDB requests one at a time: moto rolls a failed transaction back
 * over concurrent writes; see BENCHMARKS.md, Pipeline), the function host, pollers, scheduler and
 * HTTP API. Stopped when `use` settles and on SIGINT/SIGTERM.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from './command.ts';

export async function withOwnLocalCloud<T>(
  io: Io,
  use: (apiUrl: string) => Promise<T>,
): Promise<T> {
  const [{ runLocalCloud }, { startMotoServer }, supervisor] = await Promise.all([
    import('#localstack/local-cloud/local-cloud.ts'),
    import('#localstack/local-cloud/moto-server.ts'),
    import('#localstack/local-cloud/supervisor.ts'),
  ]);
  const workDir = mkdtempSync(join(tmpdir(), 'cj-demo-cloud-'));
  const paths = supervisor.localCloudPaths({ stateDir: workDir });
  mkdirSync(paths.logDir, { recursive: true });
  const templatePath = supervisor.templatePathFor(paths.root, io.env.CJ_STAGE ?? 'dev');
  io.stderr('preparing the local cloud (synthesizes the stack when sources changed)...\n');
  supervisor.ensureSynth(paths, templatePath);
  const started = Date.now();
  const moto = await startMotoServer({ iamAuditFile: join(paths.logDir, 'iam.log') });
  const stops: Array<() => Promise<void>> = [
    () => moto.stop(),
    async () => rmSync(workDir, { recursive: true, force: true }),
  ];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  const onSignal = (signal: NodeJS.Signals) => {
    io.stderr(`\n${signal}: stopping the local cloud\n`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const cloud = await runLocalCloud({
      templatePath,
      endpoint: moto.endpoint,
      credentials: moto.credentials,
      logDir: paths.logDir,
    });
    stops.push(() => cloud.stop({ abort: true }));
    io.stderr(
      `local cloud ready in ${((Date.now() - started) / 1000).toFixed(1)} s (logs: ${paths.logDir})\n`,
    );
    return await use(cloud.apiUrl);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
    io.stderr('local cloud stopped\n');
  }
}
