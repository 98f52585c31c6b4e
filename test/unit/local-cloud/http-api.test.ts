import { describe, expect, it } from 'vitest';
import {
  RouteTable,
  routeResource,
  toHttpEvent,
  toHttpReply,
} from '#localstack/local-cloud/http-api.ts';

const ROUTES = new RouteTable([
  { routeKey: 'GET /batches/{id}', functionId: 'GetBatch' },
  { routeKey: 'GET /batches/{id}/results', functionId: 'GetResults' },
  { routeKey: 'POST /batches', functionId: 'CreateBatch' },
  { routeKey: 'GET /batches/special', functionId: 'Special' },
  { routeKey: 'ANY /files/{path+}', functionId: 'Files' },
]);

function request(overrides: Partial<Parameters<typeof toHttpEvent>[0]> = {}) {
  return {
    method: 'POST',
    url: '/batches?tag=a&tag=b&x=1',
    headers: { 'content-type': 'application/json', 'X-Trace': 't-1', cookie: 'a=1; b=2' },
    body: Buffer.from('{"essays":[]}'),
    sourceIp: '127.0.0.1',
    ...overrides,
  };
}

describe('RouteTable', () => {
  it.each([
    ['GET', '/batches/b-1', 'GetBatch', { id: 'b-1' }],
    ['GET', '/batches/b%201/results', 'GetResults', { id: 'b 1' }],
    ['GET', '/batches/special', 'Special', {}],
    ['DELETE', '/files/a/b/c.txt', 'Files', { path: 'a/b/c.txt' }],
    ['POST', '/batches', 'CreateBatch', {}],
  ])('routes %s %s to %s', (method, path, functionId, pathParameters) => {
    // Act
    const match = ROUTES.match(method, path);

    // Assess
    expect(match?.route.functionId).toBe(functionId);
    expect(match?.pathParameters).toEqual(pathParameters);
  });

  it.each([
    ['GET', '/batches'],
    ['PUT', '/batches/b-1'],
    ['GET', '/batches/b-1/results/extra'],
    ['GET', '/files'],
  ])('finds no route for %s %s', (method, path) => {
    // Act
    const match = ROUTES.match(method, path);

    // Assess
    expect(match).toBeUndefined();
  });
});

describe('toHttpEvent', () => {
  it('builds a payload v2.0 event: lowercased headers, cookies, joined query values, text body', () => {
    // Prepare
    const match = ROUTES.match('POST', '/batches');

    // Act
    const event = toHttpEvent(request(), match!, {
      accountId: '123456789012',
      domainName: '127.0.0.1:8080',
    });

    // Assess
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /batches',
      rawPath: '/batches',
      rawQueryString: 'tag=a&tag=b&x=1',
      cookies: ['a=1', 'b=2'],
      headers: { 'content-type': 'application/json', 'x-trace': 't-1' },
      queryStringParameters: { tag: 'a,b', x: '1' },
      body: '{"essays":[]}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'local',
        routeKey: 'POST /batches',
        stage: '$default',
        http: { method: 'POST', path: '/batches', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.pathParameters).toBeUndefined();
  });

  it("puts a signed request's IAM caller where API Gateway does, and none for an unsigned one", () => {
    // Prepare
    const match = ROUTES.match('POST', '/batches');
    const caller = {
      userArn: 'arn:aws:iam::123456789012:user/alice',
      accessKey: 'AKIAALICE',
      accountId: '123456789012',
    };
    const context = { accountId: '123456789012', domainName: 'localhost' };

    // Act
    const signed = toHttpEvent(
      request({ method: 'POST', url: '/batches' }),
      match!,
      context,
      caller,
    );
    const unsigned = toHttpEvent(request({ method: 'POST', url: '/batches' }), match!, context);
    const resource = routeResource(
      { region: 'eu-west-1', accountId: '123456789012', apiId: 'local' },
      'get',
      '/batches/b-1',
    );

    // Assess
    expect((signed.requestContext as { authorizer?: unknown }).authorizer).toEqual({
      iam: {
        accessKey: 'AKIAALICE',
        accountId: '123456789012',
        callerId: 'AKIAALICE',
        principalOrgId: null,
        userArn: 'arn:aws:iam::123456789012:user/alice',
        userId: 'AKIAALICE',
      },
    });
    expect((unsigned.requestContext as { authorizer?: unknown }).authorizer).toBeUndefined();
    expect(resource).toBe(
      'arn:aws:execute-api:eu-west-1:123456789012:local/$default/GET/batches/b-1',
    );
  });

  it('base64-encodes a binary body and flags it', () => {
    // Prepare
    const match = ROUTES.match('PUT', '/files/x.bin');
    const body = Buffer.from([0, 255, 7]);

    // Act
    const event = toHttpEvent(
      request({
        method: 'PUT',
        url: '/files/x.bin',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      }),
      match!,
      { accountId: '123456789012', domainName: 'localhost' },
    );

    // Assess
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(body);
    expect(event.pathParameters).toEqual({ path: 'x.bin' });
  });

  it('leaves the body out of a request without one', () => {
    // Prepare
    const match = ROUTES.match('GET', '/batches/b-1');

    // Act
    const event = toHttpEvent(
      request({ method: 'GET', url: '/batches/b-1', headers: {}, body: Buffer.alloc(0) }),
      match!,
      { accountId: '123456789012', domainName: 'localhost' },
    );

    // Assess
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.queryStringParameters).toBeUndefined();
  });
});

describe('toHttpReply', () => {
  it('uses a structured answer as given: status, lowercased headers, cookies, body', () => {
    // Act
    const reply = toHttpReply({
      statusCode: 400,
      headers: { 'Content-Type': 'application/json' },
      cookies: ['s=1'],
      body: '{"error":"bad"}',
    });

    // Assess
    expect(reply.statusCode).toBe(400);
    expect(reply.headers).toEqual({ 'content-type': 'application/json', 'set-cookie': ['s=1'] });
    expect(reply.body.toString()).toBe('{"error":"bad"}');
  });

  it('decodes a base64 body', () => {
    // Act
    const reply = toHttpReply({ statusCode: 200, body: 'AP8H', isBase64Encoded: true });

    // Assess
    expect([...reply.body]).toEqual([0, 255, 7]);
  });

  it('turns a plain object into a 200 JSON response, as API Gateway does for payload v2.0', () => {
    // Act
    const reply = toHttpReply({ id: 'b-1', status: 'RUNNING' });

    // Assess
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toEqual({ id: 'b-1', status: 'RUNNING' });
  });
});
