/**
 * A counting HTTP proxy in front of moto_server: every AWS API request the functions and the local
 * function host make passes through it and is classified by service (SigV4 credential scope) and
 * action, with DynamoDB request units and SQS billed requests estimated from the bodies.
 *
 * Requests are forwarded as they come, DynamoDB's too: the local cloud's moto applies DynamoDB
 * requests one at a time itself (localstack/local-cloud/moto_serialized.py), after their IAM check.
 * A second one-at-a-time queue here held each DynamoDB request's whole round trip (signature and
 * IAM check, the proxy's own event loop) inside the serialized section.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TABLE_INDEXES } from '#store/table-schema.ts';
import {
  DYNAMODB_READ_UNIT_BYTES,
  DYNAMODB_WRITE_UNIT_BYTES,
  SQS_BILLING_CHUNK_BYTES,
} from './aws-prices.ts';

export interface RequestTally {
  /** Requests by `service.Action`, e.g. `dynamodb.TransactWriteItems`, `sqs.SendMessageBatch`. */
  byAction: Record<string, number>;
  requestsByService: Record<string, number>;
  dynamodbReadUnits: number;
  dynamodbWriteUnits: number;
  sqsStandardBilledRequests: number;
  sqsFifoBilledRequests: number;
  /** ReceiveMessage calls that returned nothing: idle polling, a function of time, not of work. */
  sqsEmptyReceives: number;
  eventBridgeEvents: number;
  /**
   * Milliseconds moto took to answer, summed by `service.Action` (forward to last byte; an empty
   * `ReceiveMessage` as `sqs.ReceiveMessage(empty)`, a long poll counting its wait).
   */
  upstreamMsByAction: Record<string, number>;
}

export function emptyTally(): RequestTally {
  return {
    byAction: {},
    requestsByService: {},
    dynamodbReadUnits: 0,
    dynamodbWriteUnits: 0,
    sqsStandardBilledRequests: 0,
    sqsFifoBilledRequests: 0,
    sqsEmptyReceives: 0,
    eventBridgeEvents: 0,
    upstreamMsByAction: {},
  };
}

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** DynamoDB's item size rule: attribute name lengths plus value sizes (numbers approximated). */
export function attributeValueBytes(value: AttributeValue): number {
  const [type, raw] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(raw), 'utf8');
    case 'N':
      return Math.ceil(String(raw).replace(/^-|\./g, '').length / 2) + 1;
    case 'B':
      return Buffer.from(String(raw), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (raw as string[]).reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
    case 'NS':
      return (raw as string[]).reduce((sum, n) => sum + Math.ceil(n.length / 2) + 1, 0);
    case 'BS':
      return (raw as string[]).reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
    case 'L':
      return 3 + (raw as AttributeValue[]).reduce((sum, v) => sum + 1 + attributeValueBytes(v), 0);
    case 'M':
      return 3 + itemBytes(raw as Item) + Object.keys(raw as Item).length;
    default:
      return 1;
  }
}

export function itemBytes(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + attributeValueBytes(value),
    0,
  );
}

const writeUnits = (item: Item | undefined) =>
  Math.max(1, Math.ceil(itemBytes(item) / DYNAMODB_WRITE_UNIT_BYTES));
const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / DYNAMODB_READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);

type Json = Record<string, unknown>;

const INDEX_KEYS = Object.values(TABLE_INDEXES).map((index) => index.partitionKey);

/** Index entries a put writes: one per index whose partition key the item carries. */
const putIndexWrites = (item: Item | undefined) =>
  item ? INDEX_KEYS.filter((key) => key in item).length : 0;

/**
 * Index entries an update writes: one per index whose partition key its expression sets or
 * removes (an entry added, moved or dropped; keys-only projections, so 1 unit each). Counter
 * updates that leave every index key alone write no index entry.
 */
function updateIndexWrites(update: Json): number {
  const expression = typeof update.UpdateExpression === 'string' ? update.UpdateExpression : '';
  const names = (update.ExpressionAttributeNames as Record<string, string> | undefined) ?? {};
  const touched = new Set(
    (expression.match(/#?[A-Za-z_][A-Za-z0-9_]*/g) ?? []).map((token) => names[token] ?? token),
  );
  return INDEX_KEYS.filter((key) => touched.has(key)).length;
}

/**
 * Request units one DynamoDB call consumes (estimated from its request and response bodies),
 * including the writes of the table's global secondary indexes, which AWS bills as write units of
 * their own (a transaction's index writes are not doubled).
 */
export function dynamodbUnits(
  action: string,
  req: Json,
  res: Json,
): { read: number; write: number } {
  const consistent = req.ConsistentRead === true;
  switch (action) {
    case 'GetItem':
      return { read: readUnits(itemBytes(res.Item as Item), consistent), write: 0 };
    case 'Query':
    case 'Scan': {
      const items = (res.Items as Item[] | undefined) ?? [];
      const bytes = items.reduce((sum, item) => sum + itemBytes(item), 0);
      return { read: readUnits(bytes, consistent), write: 0 };
    }
    case 'BatchGetItem': {
      let read = 0;
      const requests = (req.RequestItems as Record<string, Json> | undefined) ?? {};
      for (const [table, items] of Object.entries(
        (res.Responses as Record<string, Item[]>) ?? {},
      )) {
        const tableConsistent = requests[table]?.ConsistentRead === true;
        for (const item of items) read += readUnits(itemBytes(item), tableConsistent);
      }
      return { read, write: 0 };
    }
    case 'TransactGetItems': {
      const responses = (res.Responses as Array<{ Item?: Item }> | undefined) ?? [];
      return {
        read: responses.reduce((sum, r) => sum + 2 * readUnits(itemBytes(r.Item), true), 0),
        write: 0,
      };
    }
    case 'PutItem':
      return {
        read: 0,
        write: writeUnits(req.Item as Item) + putIndexWrites(req.Item as Item),
      };
    case 'UpdateItem':
      return {
        read: 0,
        write: writeUnits(res.Attributes as Item | undefined) + updateIndexWrites(req),
      };
    case 'DeleteItem':
      return { read: 0, write: writeUnits(res.Attributes as Item | undefined) };
    case 'BatchWriteItem': {
      let write = 0;
      for (const requests of Object.values((req.RequestItems as Record<string, Json[]>) ?? {})) {
        for (const r of requests) {
          const item = (r.PutRequest as { Item?: Item } | undefined)?.Item;
          write += writeUnits(item) + putIndexWrites(item);
        }
      }
      return { read: 0, write };
    }
    case 'TransactWriteItems': {
      const items = (req.TransactItems as Json[] | undefined) ?? [];
      const write = items.reduce((sum, entry) => {
        const put = (entry.Put as { Item?: Item } | undefined)?.Item;
        const update = entry.Update as Json | undefined;
        const indexWrites = put ? putIndexWrites(put) : update ? updateIndexWrites(update) : 0;
        return sum + 2 * writeUnits(put) + indexWrites;
      }, 0);
      return { read: 0, write };
    }
    default:
      return { read: 0, write: 0 };
  }
}

function parseJson(text: string): Json {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Json) : {};
  } catch {
    return {};
  }
}

/** Service from the SigV4 credential scope (`Credential=AK/date/region/service/aws4_request`). */
export function serviceOf(authorization: string | undefined): string {
  const match = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return match?.[1] ?? 'unknown';
}

/** Action from `X-Amz-Target` (JSON protocols) or the `Action=` form field (query protocol). */
export function actionOf(target: string | undefined, body: string): string {
  if (target) return target.slice(target.lastIndexOf('.') + 1);
  const match = /(?:^|&)Action=([A-Za-z]+)/.exec(body);
  return match?.[1] ?? 'unknown';
}

export function tallyRequest(
  tally: RequestTally,
  call: {
    service: string;
    action: string;
    requestBody: string;
    responseBody: string;
    upstreamMs?: number;
  },
): void {
  const { service, action, requestBody, responseBody, upstreamMs = 0 } = call;
  const addTime = (key: string) => {
    tally.upstreamMsByAction[key] = (tally.upstreamMsByAction[key] ?? 0) + upstreamMs;
  };
  tally.byAction[`${service}.${action}`] = (tally.byAction[`${service}.${action}`] ?? 0) + 1;
  tally.requestsByService[service] = (tally.requestsByService[service] ?? 0) + 1;
  if (!(service === 'sqs' && action === 'ReceiveMessage')) addTime(`${service}.${action}`);
  else if (((parseJson(responseBody).Messages as unknown[] | undefined) ?? []).length > 0) {
    addTime('sqs.ReceiveMessage');
  }
  if (service === 'dynamodb') {
    const units = dynamodbUnits(action, parseJson(requestBody), parseJson(responseBody));
    tally.dynamodbReadUnits += units.read;
    tally.dynamodbWriteUnits += units.write;
  } else if (service === 'sqs') {
    const req = parseJson(requestBody);
    if (action === 'ReceiveMessage') {
      const messages = parseJson(responseBody).Messages as unknown[] | undefined;
      if (!messages || messages.length === 0) {
        tally.sqsEmptyReceives += 1;
        addTime('sqs.ReceiveMessage(empty)');
        return;
      }
    }
    const payload = Math.max(Buffer.byteLength(requestBody), Buffer.byteLength(responseBody));
    const billed = Math.max(1, Math.ceil(payload / SQS_BILLING_CHUNK_BYTES));
    if (String(req.QueueUrl ?? '').endsWith('.fifo')) tally.sqsFifoBilledRequests += billed;
    else tally.sqsStandardBilledRequests += billed;
  } else if (service === 'events' && action === 'PutEvents') {
    tally.eventBridgeEvents += ((parseJson(requestBody).Entries as unknown[]) ?? []).length;
  }
}

export interface CountingProxy {
  endpoint: string;
  tally: RequestTally;
  reset(): void;
  close(): Promise<void>;
}

/**
 * `upstream` may be a function, for when the proxy must exist before the server it fronts (its URL
 * goes into the environment of functions that start before moto_server's port is known).
 */
export async function startCountingProxy(
  upstream: string | (() => string | undefined),
): Promise<CountingProxy> {
  const upstreamUrl = () => {
    const url = typeof upstream === 'function' ? upstream() : upstream;
    return url === undefined ? undefined : new URL(url);
  };
  const proxy: { tally: RequestTally } = { tally: emptyTally() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      forwardRequest(Buffer.concat(chunks), serviceOf(req.headers.authorization)),
    );
    const forwardRequest = (requestBody: Buffer, service: string) => {
      const target = upstreamUrl();
      if (!target) {
        res.writeHead(503);
        res.end('upstream not ready');
        return;
      }
      const forwarded = performance.now();
      const forward = httpRequest(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (upstreamRes) => {
          const out: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => out.push(chunk));
          upstreamRes.on('end', () => {
            const responseBody = Buffer.concat(out);
            if (!req.url?.startsWith('/moto-api')) {
              const requestText = requestBody.toString('utf8');
              tallyRequest(proxy.tally, {
                service,
                action: actionOf(req.headers['x-amz-target'] as string | undefined, requestText),
                requestBody: requestText,
                responseBody: responseBody.toString('utf8'),
                upstreamMs: performance.now() - forwarded,
              });
            }
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            res.end(responseBody);
          });
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(requestBody);
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get tally() {
      return proxy.tally;
    },
    reset: () => {
      proxy.tally = emptyTally();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
