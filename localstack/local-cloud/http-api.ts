/**
 * The local HTTP API: the template's API Gateway HTTP API routes served on loopback, each request
 * turned into a payload v2.0 event and the function's answer mapped back as API Gateway does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FunctionHost } from './function-host.ts';

export interface HttpRoute {
  /** `POST /batches/{id}/start`, `ANY /{proxy+}` or `$default`. */
  routeKey: string;
  /** Logical id of the function behind the route's integration. */
  functionId: string;
}

interface CompiledRoute extends HttpRoute {
  method: string;
  segments: string[];
  specificity: number[];
}

export interface RouteMatch {
  route: HttpRoute;
  pathParameters: Record<string, string>;
}

/** API Gateway's payload limit: larger requests are refused before reaching a function. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Content types API Gateway passes as text; anything else reaches the function base64-encoded. */
const TEXT_CONTENT =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly HttpRoute[]) {
    this.routes = routes.map(compile).sort(bySpecificity);
  }

  /** The most specific route for the request: literal segments beat parameters beat greedy ones. */
  match(method: string, path: string): RouteMatch | undefined {
    const parts = path.split('/').filter((part) => part !== '');
    for (const route of this.routes) {
      if (route.routeKey === '$default') return { route, pathParameters: {} };
      if (route.method !== 'ANY' && route.method !== method.toUpperCase()) continue;
      const parameters = matchSegments(route.segments, parts);
      if (parameters) return { route, pathParameters: parameters };
    }
    return undefined;
  }
}

function compile(route: HttpRoute): CompiledRoute {
  if (route.routeKey === '$default') {
    return { ...route, method: 'ANY', segments: [], specificity: [Number.MAX_SAFE_INTEGER] };
  }
  const [method = 'ANY', path = '/'] = route.routeKey.split(' ');
  const segments = path.split('/').filter((part) => part !== '');
  const greedy = segments.some((segment) => segment.endsWith('+}'));
  const parameters = segments.filter((segment) => segment.startsWith('{')).length;
  return {
    ...route,
    method: method.toUpperCase(),
    segments,
    specificity: [greedy ? 1 : 0, parameters, -segments.length, method === 'ANY' ? 1 : 0],
  };
}

function bySpecificity(left: CompiledRoute, right: CompiledRoute): number {
  for (
    let index = 0;
    index < Math.max(left.specificity.length, right.specificity.length);
    index++
  ) {
    const difference = (left.specificity[index] ?? 0) - (right.specificity[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] ?? '';
    if (segment.startsWith('{') && segment.endsWith('+}')) {
      if (index >= parts.length) return undefined;
      parameters[segment.slice(1, -2)] = parts.slice(index).map(decode).join('/');
      return parameters;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      parameters[segment.slice(1, -1)] = decode(part);
    } else if (segment !== part) {
      return undefined;
    }
  }
  return parts.length === segments.length ? parameters : undefined;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export interface RequestShape {
  method: string;
  /** Path and query as received (`/batches/b1?x=1`). */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  sourceIp: string;
}

/** Who signed a request (API Gateway's `requestContext.authorizer.iam` of an IAM route). */
export interface IamCaller {
  userArn: string;
  accessKey: string;
  accountId: string;
}

/**
 * Checks a request's SigV4 signature and the signer's `execute-api:Invoke` on `resource`: the
 * signer, or why it is refused (API Gateway then answers 403 without calling the function).
 */
export type CallerCheck = (
  request: RequestShape,
  resource: string,
) => Promise<{ caller: IamCaller } | { refused: string }>;

/** The execute-api ARN IAM authorizes a request against: `…:apiId/stage/METHOD/path`. */
export function routeResource(
  context: { region: string; accountId: string; apiId: string; stage?: string },
  method: string,
  path: string,
): string {
  const stage = context.stage ?? '$default';
  return `arn:aws:execute-api:${context.region}:${context.accountId}:${context.apiId}/${stage}/${method.toUpperCase()}${path}`;
}

/** A request → API Gateway HTTP API payload v2.0 event (with the IAM caller of a signed one). */
export function toHttpEvent(
  request: RequestShape,
  match: RouteMatch,
  context: { accountId: string; domainName: string; stage?: string },
  caller?: IamCaller,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url, 'http://local');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(',') : value;
    // Payload v2.0 moves cookies out of the headers into their own list.
    if (lower === 'cookie') cookies.push(...joined.split(';').map((cookie) => cookie.trim()));
    else headers[lower] = joined;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    query[key] = url.searchParams.getAll(key).join(',');
  }
  const contentType = headers['content-type'] ?? '';
  const hasBody = request.body.length > 0;
  const isText = contentType === '' || TEXT_CONTENT.test(contentType);
  const now = new Date();
  const routeKey = match.route.routeKey;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: context.accountId,
      apiId: 'local',
      domainName: context.domainName,
      domainPrefix: context.domainName.split('.')[0] ?? context.domainName,
      http: {
        method: request.method.toUpperCase(),
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: context.stage ?? '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      ...(caller
        ? {
            authorizer: {
              iam: {
                accessKey: caller.accessKey,
                accountId: caller.accountId,
                callerId: caller.accessKey,
                principalOrgId: null,
                userArn: caller.userArn,
                userId: caller.accessKey,
              },
            },
          }
        : {}),
    },
    ...(hasBody
      ? {
          body: isText ? request.body.toString('utf8') : request.body.toString('base64'),
          isBase64Encoded: !isText,
        }
      : { isBase64Encoded: false }),
  };
}

export interface HttpReply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * The function's answer → the HTTP response. An object with `statusCode` is used as given; any
 * other answer is a 200 with the answer as a JSON body, as API Gateway does for payload v2.0.
 */
export function toHttpReply(value: unknown): HttpReply {
  if (isStructured(value)) {
    const headers: Record<string, string | string[]> = {};
    for (const [name, header] of Object.entries(value.headers ?? {})) {
      headers[name.toLowerCase()] = String(header);
    }
    for (const [name, list] of Object.entries(value.multiValueHeaders ?? {})) {
      headers[name.toLowerCase()] = list.map(String);
    }
    if (value.cookies?.length) headers['set-cookie'] = value.cookies;
    const raw = value.body ?? '';
    const body = value.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    return { statusCode: Number(value.statusCode), headers, body };
  }
  const body = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body, 'utf8'),
  };
}

interface StructuredResult {
  statusCode: number | string;
  headers?: Record<string, unknown>;
  multiValueHeaders?: Record<string, unknown[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

function isStructured(value: unknown): value is StructuredResult {
  return typeof value === 'object' && value !== null && 'statusCode' in value;
}

function jsonReply(statusCode: number, message: string): HttpReply {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

export interface HttpApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpApi(options: {
  routes: readonly HttpRoute[];
  host: FunctionHost;
  accountId: string;
  port?: number;
  integrationTimeoutMs: number;
  /** Who signed a signed request (moto's IAM); without it, signatures are not looked at. */
  checkCaller?: CallerCheck;
  region?: string;
}): Promise<HttpApiServer> {
  const table = new RouteTable(options.routes);
  const server: Server = createServer((request, response) => {
    void handle(request, response).catch(() =>
      send(response, jsonReply(500, 'Internal Server Error')),
    );
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (body === undefined) return send(response, jsonReply(413, 'Request Entity Too Large'));
    const url = request.url ?? '/';
    const match = table.match(request.method ?? 'GET', new URL(url, 'http://local').pathname);
    if (!match) return send(response, jsonReply(404, 'Not Found'));
    const shape: RequestShape = {
      method: request.method ?? 'GET',
      url,
      headers: request.headers,
      body,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    };
    // A signed request is checked as API Gateway's IAM authorization does; an unsigned one reaches
    // the function with no IAM context (the local identity, docs/security.md).
    let caller: IamCaller | undefined;
    if (options.checkCaller && isSigned(request.headers)) {
      const resource = routeResource(
        { region: options.region ?? 'us-east-1', accountId: options.accountId, apiId: 'local' },
        shape.method,
        new URL(url, 'http://local').pathname,
      );
      const checked = await options.checkCaller(shape, resource);
      if ('refused' in checked) return send(response, jsonReply(403, checked.refused));
      caller = checked.caller;
    }
    const event = toHttpEvent(
      shape,
      match,
      { accountId: options.accountId, domainName: request.headers.host ?? 'localhost' },
      caller,
    );
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), options.integrationTimeoutMs).unref(),
    );
    const result = await Promise.race([
      options.host.invoke(match.route.functionId, event),
      timeout,
    ]);
    if (result === 'timeout') return send(response, jsonReply(503, 'Service Unavailable'));
    // Lambda refused the event as too large (over 6 MB once wrapped in the event): API Gateway
    // answers 413; any other function error (a response over 6 MB included) is a 500.
    if (!result.ok && result.error.errorType === 'RequestEntityTooLargeException') {
      return send(response, jsonReply(413, 'Request Entity Too Large'));
    }
    if (!result.ok) return send(response, jsonReply(500, 'Internal Server Error'));
    try {
      send(response, toHttpReply(result.value));
    } catch {
      send(response, jsonReply(500, 'Internal Server Error'));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isSigned(headers: IncomingMessage['headers']): boolean {
  const authorization = headers.authorization;
  return typeof authorization === 'string' && authorization.startsWith('AWS4-HMAC-SHA256 ');
}

/**
 * The caller check against moto's IAM (moto_iam.py's caller endpoint at `endpoint`), for the
 * account `accountId`.
 */
export function motoCallerCheck(endpoint: string, accountId: string): CallerCheck {
  return async (request, resource) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const answer = await fetch(new URL('/_cj/sigv4-caller', endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        account: accountId,
        method: request.method.toUpperCase(),
        path: request.url,
        headers,
        body: request.body.toString('base64'),
        resource,
      }),
    });
    const body = (await answer.json()) as Partial<IamCaller> & { message?: string };
    if (answer.ok && body.userArn && body.accessKey && body.accountId) {
      return {
        caller: { userArn: body.userArn, accessKey: body.accessKey, accountId: body.accountId },
      };
    }
    return { refused: body.message ?? 'Forbidden' };
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, reply: HttpReply): void {
  if (response.headersSent) return;
  response.writeHead(reply.statusCode, {
    ...reply.headers,
    'content-length': String(reply.body.length),
  });
  response.end(reply.body);
}
