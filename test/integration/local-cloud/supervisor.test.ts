import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  localCloudStatus,
  startLocalCloud,
  stopLocalCloud,
} from '#localstack/local-cloud/index.ts';
import { lambdaNodeBinary } from '#localstack/local-cloud/lambda-node.ts';
import { ensureSynth, isAlive } from '#localstack/local-cloud/supervisor.ts';
import {
  FIXTURE_TEMPLATE,
  removeTemporaryDirs,
  temporaryDir,
  waitFor,
} from '#test/helpers/local-cloud-fixtures.ts';

// Real servers and redelivery after visibility timeouts: slower than pure unit tests on a busy machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

// A state folder of its own: the test never touches a local cloud someone else is running.
const stateDir = temporaryDir('local-cloud-state');
const options = { stateDir, templatePath: FIXTURE_TEMPLATE, synth: false };

function groupMembers(pgid: number): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
  } catch {
    return [];
  }
}

afterAll(async () => {
  await stopLocalCloud({ stateDir });
  removeTemporaryDirs();
});

describe('startLocalCloud / stopLocalCloud', () => {
  it('starts one background process group, reports it ready, and stop leaves no process behind', async () => {
    // Prepare: the shell of `cj local start` has a provider key and an unrelated variable.
    const environment = { OPENAI_API_KEY: 'sk-local-test', UNRELATED_SECRET: 'not-for-functions' };

    // Act
    const info = await startLocalCloud({ ...options, environment });
    const status = await localCloudStatus({ stateDir });
    const again = await startLocalCloud(options);
    const pgid = info.state.pid;
    const motoPid = info.state.motoPid ?? -1;
    const membersWhileRunning = groupMembers(pgid);
    const daemonBinary = realpathSync(`/proc/${pgid}/exe`);
    const workerInit = await waitFor(
      () =>
        readFileSync(join(stateDir, 'logs', 'worker.log'), 'utf8')
          .split('\n')
          .filter((line) => line.includes('"INIT_START"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)[0],
      'the worker INIT_START line',
    );
    const apiAnswer = await fetch(`${info.apiUrl}plain`);
    const functionEnv = (await (await fetch(`${info.apiUrl}env`)).json()) as Record<string, string>;
    const stateText = readFileSync(join(stateDir, 'state.json'), 'utf8');
    const stopped = await stopLocalCloud({ stateDir });

    // Assess
    expect(info.started).toBe(true);
    expect(info.outputs.ApiUrl).toBe(info.apiUrl);
    expect(info.apiUrl).toBe(`http://127.0.0.1:${info.state.ports.api}/`);
    expect(info.endpoint).toBe(`http://127.0.0.1:${info.state.ports.moto}`);
    expect(info.outputs.TableName).toBe('local-fixture-table');
    expect(info.state.functions.worker?.logFile).toBe(join(stateDir, 'logs', 'worker.log'));
    expect(status).toMatchObject({ running: true, processAlive: true, motoUp: true, apiUp: true });
    expect(again.started).toBe(false);
    expect(again.apiUrl).toBe(info.apiUrl);
    expect(membersWhileRunning).toContain(String(motoPid));
    // Lambda's Node major from the `node` dependency, whatever Node runs the caller.
    expect(daemonBinary).toBe(realpathSync(lambdaNodeBinary()));
    expect(info.state.functionNode).toMatch(/^v22\./);
    expect(workerInit).toMatchObject({ runtime: 'nodejs22.x', node: info.state.functionNode });
    expect(apiAnswer.status).toBe(200);
    // Every provider by default (the user's own machine), with the key from the starting shell.
    expect(functionEnv.ALLOWED_PROVIDERS).toBe('mock,openai,anthropic,openai-compatible');
    expect(functionEnv.OPENAI_API_KEY).toBe('sk-local-test');
    expect(functionEnv.UNRELATED_SECRET).toBeUndefined();
    expect(info.state.judges).toEqual({
      allowedProviders: ['mock', 'openai', 'anthropic', 'openai-compatible'],
      passedEnv: ['OPENAI_API_KEY'],
    });
    expect(stateText).not.toContain('sk-local-test');
    expect(stopped).toEqual({ stopped: true, pids: [pgid, motoPid] });
    expect(isAlive(pgid)).toBe(false);
    expect(isAlive(motoPid)).toBe(false);
    expect(groupMembers(pgid)).toEqual([]);
    expect(existsSync(join(stateDir, 'state.json'))).toBe(false);
    expect(await localCloudStatus({ stateDir })).toMatchObject({ running: false });
  }, 120_000);

  it('starts one local cloud when two starts race (narrowed to the providers asked for)', async () => {
    // Prepare
    const raceDir = temporaryDir('local-cloud-race');
    const raceOptions = {
      stateDir: raceDir,
      templatePath: FIXTURE_TEMPLATE,
      synth: false,
      providers: ['mock', 'openai-compatible'] as const,
      environment: {},
    };

    // Act
    const [first, second] = await Promise.all([
      startLocalCloud(raceOptions),
      startLocalCloud(raceOptions),
    ]);
    const functionEnv = (await (await fetch(`${first.apiUrl}env`)).json()) as Record<
      string,
      string
    >;
    const stopped = await stopLocalCloud({ stateDir: raceDir });

    // Assess
    expect(functionEnv.ALLOWED_PROVIDERS).toBe('mock,openai-compatible');
    expect(functionEnv.OPENAI_API_KEY).toBeUndefined();
    expect([first.started, second.started].sort()).toEqual([false, true]);
    expect(second.state.pid).toBe(first.state.pid);
    expect(stopped.stopped).toBe(true);
    expect(groupMembers(first.state.pid)).toEqual([]);
  }, 120_000);

  it('reports a stop when nothing runs as not stopped', async () => {
    // Act
    const result = await stopLocalCloud({ stateDir: temporaryDir('local-cloud-empty') });

    // Assess
    expect(result).toEqual({ stopped: false, pids: [] });
  });

  it('fails to start with the reason when the template is missing, leaving nothing running', async () => {
    // Prepare
    const emptyDir = temporaryDir('local-cloud-missing');

    // Act
    const start = startLocalCloud({
      stateDir: emptyDir,
      templatePath: join(emptyDir, 'CjEngine-dev.template.json'),
      synth: false,
    });

    // Assess
    await expect(start).rejects.toThrow(/no template at .*run `npm run synth`/);
    expect((await localCloudStatus({ stateDir: emptyDir })).running).toBe(false);
  });

  it('reports a background start failure and ends the process', async () => {
    // Prepare
    const badDir = temporaryDir('local-cloud-bad');
    const badTemplate = join(badDir, 'Bad.template.json');
    execFileSync('sh', [
      '-c',
      `echo '{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Fn::ImportValue":"x"}}}}}' > ${badTemplate}`,
    ]);

    // Act
    const start = startLocalCloud({ stateDir: badDir, templatePath: badTemplate, synth: false });

    // Assess
    await expect(start).rejects.toThrow(/Fn::ImportValue is not supported/);
    expect((await localCloudStatus({ stateDir: badDir })).processAlive).toBe(false);
  }, 60_000);
});

describe('ensureSynth', () => {
  function projectWithSynthScript(): string {
    const root = temporaryDir('local-cloud-synth');
    // The synth script only records that it ran, so the test needs no CDK app.
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({
        scripts: { synth: "node -e \"require('fs').writeFileSync('synth-ran', '')\"" },
      }),
    );
    mkdirSync(join(root, 'infra'));
    mkdirSync(join(root, 'logs'));
    return root;
  }

  it('synthesizes when the template is older than a source file', () => {
    // Prepare
    const root = projectWithSynthScript();
    const template = join(root, 'CjEngine-dev.template.json');
    writeFileSync(template, '{}');
    utimesSync(template, new Date(1_000), new Date(1_000));
    writeFileSync(join(root, 'infra', 'stack.ts'), '');

    // Act
    ensureSynth(
      { root, stateDir: root, stateFile: join(root, 'state.json'), logDir: join(root, 'logs') },
      template,
    );

    // Assess
    expect(existsSync(join(root, 'synth-ran'))).toBe(true);
  });

  it('leaves a template newer than every source alone', () => {
    // Prepare
    const root = projectWithSynthScript();
    writeFileSync(join(root, 'infra', 'stack.ts'), '');
    utimesSync(join(root, 'infra', 'stack.ts'), new Date(1_000), new Date(1_000));
    utimesSync(join(root, 'package.json'), new Date(1_000), new Date(1_000));
    const template = join(root, 'CjEngine-dev.template.json');
    writeFileSync(template, '{}');

    // Act
    ensureSynth(
      { root, stateDir: root, stateFile: join(root, 'state.json'), logDir: join(root, 'logs') },
      template,
    );

    // Assess
    expect(existsSync(join(root, 'synth-ran'))).toBe(false);
  });
});

describe('a stale state file', () => {
  it("never signals a process that is not the local cloud's, even if it has the recorded id", async () => {
    // Prepare
    const staleDir = temporaryDir('local-cloud-stale');
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const strangerPid = stranger.pid ?? -1;
    writeFileSync(
      join(staleDir, 'state.json'),
      JSON.stringify({
        ready: true,
        pid: strangerPid,
        motoPid: strangerPid,
        endpoint: 'http://127.0.0.1:9',
        apiUrl: 'http://127.0.0.1:9/',
      }),
    );

    // Act
    const status = await localCloudStatus({ stateDir: staleDir });
    const stopped = await stopLocalCloud({ stateDir: staleDir });

    // Assess
    expect(status).toMatchObject({ running: false, processAlive: false });
    expect(stopped).toEqual({ stopped: false, pids: [] });
    expect(isAlive(strangerPid)).toBe(true);
    expect(existsSync(join(staleDir, 'state.json'))).toBe(false);
    stranger.kill('SIGKILL');
  });
});

describe('stopLocalCloudOnExit', () => {
  it('ends the local cloud a process started when that process exits without stopping it', async () => {
    // Prepare: a process that starts a local cloud, guards it and exits at once, as a test runner
    // tearing down a timed-out test exits without running its finally (an ES module: top-level await)
    const childDir = temporaryDir('local-cloud-guarded');
    const script = join(childDir, 'start-and-exit.mts');
    const index = fileURLToPath(
      new URL('../../../localstack/local-cloud/index.ts', import.meta.url),
    );
    writeFileSync(
      script,
      [
        `import { startLocalCloud, stopLocalCloudOnExit } from ${JSON.stringify(index)};`,
        `const options = ${JSON.stringify({ ...options, stateDir: join(childDir, 'cloud') })};`,
        'const info = await startLocalCloud(options);',
        'stopLocalCloudOnExit(options);',
        'console.log(JSON.stringify({ pid: info.state.pid, moto: info.state.motoPid }));',
        'process.exit(3);',
      ].join('\n'),
    );
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

    // Act
    const child = spawnSync(tsx, [script], { encoding: 'utf8', timeout: 80_000 });
    expect(child.stderr).toBe('');
    const started = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as {
      pid: number;
      moto: number;
    };

    // Assess: the child exited with its own code, and neither the daemon's group nor moto is left
    expect(child.status).toBe(3);
    expect(started.pid).toBeGreaterThan(0);
    expect(started.moto).toBeGreaterThan(0);
    await waitFor(
      () => (!isAlive(started.moto) && groupMembers(started.pid).length === 0) || undefined,
      'the guarded local cloud to end',
    );
  });
});
