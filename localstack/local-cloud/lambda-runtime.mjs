// One warm Lambda instance: a worker thread that imports a function bundle once and runs one
// invocation at a time with a Lambda-like context. Plain JavaScript because worker threads load
// it without a TypeScript loader, exactly as they load the bundled handlers.
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { bundlePath, exportName, functionName, functionArn, runtime, memoryMb, logGroupName } =
  workerData;
const logStreamName = `local/[$LATEST]${randomUUID().replaceAll('-', '')}`;

// Lambda opens every execution environment's log with INIT_START and its runtime version; this
// line says which Node the handler really runs on (the host refuses a major other than Runtime's).
process.stdout.write(
  `${JSON.stringify({ timestamp: new Date().toISOString(), level: 'INFO', message: 'INIT_START', runtime, node: process.version, logStreamName })}\n`,
);
const modulePromise = import(pathToFileURL(bundlePath).href);

// The init phase (module load) is reported separately: Lambda starts the timeout clock after it.
modulePromise.then(
  () => parentPort.postMessage({ type: 'ready' }),
  (error) => parentPort.postMessage({ type: 'initError', error: errorShape(error) }),
);

function errorShape(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      stack: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: String(error), stack: [] };
}

function makeContext(requestId, deadline) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function invoke(handler, event, context) {
  // Callback-style handlers take three parameters; async handlers return a promise.
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const maybe = handler(event, context, (error, value) =>
        error ? reject(error) : resolve(value),
      );
      if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
    });
  }
  return handler(event, context);
}

// Chaos (chaos.ts): an invocation told to crash dies at its `crashAt`-th boundary, counting the
// start and the answer of every outgoing HTTP call (the AWS SDK's and fetch's), or when its handler
// returns if it reaches fewer; the thread exits as an out-of-memory kill ends an instance.
let boundaries = 0;
let crashAt = -1;
function boundary() {
  if (crashAt >= 0 && boundaries === crashAt) process.exit(137);
  boundaries += 1;
}
for (const channel of [
  'http.client.request.start',
  'http.client.response.finish',
  'undici:request:create',
  'undici:request:headers',
]) {
  subscribe(channel, boundary);
}

parentPort.on('message', async (message) => {
  const { id, event, requestId, deadline } = message;
  boundaries = 0;
  crashAt = message.crashAt ?? -1;
  try {
    boundary();
    const module = await modulePromise;
    const handler = module[exportName] ?? module.default?.[exportName];
    if (typeof handler !== 'function') {
      throw new Error(`${bundlePath} exports no function "${exportName}"`);
    }
    const value = await invoke(handler, event, makeContext(requestId, deadline));
    // Lambda serializes the result as JSON; undefined becomes null.
    const json = value === undefined ? 'null' : JSON.stringify(value);
    if (crashAt >= 0) process.exit(137);
    parentPort.postMessage({ id, ok: true, json: json ?? 'null', boundaries });
  } catch (error) {
    const shape = errorShape(error);
    // The Node.js runtime logs an invocation error as one line, as it would in CloudWatch.
    process.stderr.write(
      `${JSON.stringify({ timestamp: new Date().toISOString(), level: 'ERROR', requestId, message: 'Invoke Error', ...shape })}\n`,
    );
    if (crashAt >= 0) process.exit(137);
    parentPort.postMessage({ id, ok: false, error: shape, boundaries });
  }
});
