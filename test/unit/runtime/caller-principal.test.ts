/**
 * The caller principal: read from the IAM request context, an assumed role's session name dropped,
 * the local identity only when the context has none, and a 403 when neither is there.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  apiCaller,
  callerPrincipal,
  iamCallerArn,
  principalId,
} from '#shared/runtime/caller-principal.ts';
import { errorResponse } from '#shared/runtime/http.ts';
import { httpEvent } from '#test/helpers/events.ts';

const LOCAL = 'arn:aws:iam::000000000000:user/local-cli';

function signedBy(userArn: unknown): APIGatewayProxyEventV2 {
  const event = httpEvent('POST /batches', { caller: null });
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: { iam: { accessKey: 'AKIA', accountId: '123456789012', userArn } },
    },
  } as APIGatewayProxyEventV2;
}

describe('principalId', () => {
  it.each([
    [
      'arn:aws:sts::123456789012:assumed-role/Submitter/session-1',
      'arn:aws:sts::123456789012:assumed-role/Submitter',
    ],
    [
      'arn:aws-us-gov:sts::123456789012:assumed-role/Submitter/bot@example.com',
      'arn:aws-us-gov:sts::123456789012:assumed-role/Submitter',
    ],
    ['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/alice'],
    ['arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:root'],
  ])('%s → %s', (arn, id) => {
    // Act
    const result = principalId(arn);

    // Assess
    expect(result).toBe(id);
  });
});

describe('callerPrincipal', () => {
  it('takes the IAM caller from the request context, ahead of the local identity', () => {
    // Prepare
    const event = signedBy('arn:aws:sts::123456789012:assumed-role/Submitter/ci-run-7');

    // Act
    const principal = callerPrincipal(event, LOCAL);

    // Assess
    expect(principal).toEqual({
      id: 'arn:aws:sts::123456789012:assumed-role/Submitter',
      arn: 'arn:aws:sts::123456789012:assumed-role/Submitter/ci-run-7',
    });
  });

  it('two sessions of one role are one principal', () => {
    // Act
    const first = callerPrincipal(signedBy('arn:aws:sts::123456789012:assumed-role/R/a'), LOCAL);
    const second = callerPrincipal(signedBy('arn:aws:sts::123456789012:assumed-role/R/b'), LOCAL);

    // Assess
    expect(first.id).toBe(second.id);
    expect(first.arn).not.toBe(second.arn);
  });

  it('falls back to the local identity when the context carries no IAM caller', () => {
    // Act
    const unsigned = callerPrincipal(httpEvent('POST /batches', { caller: null }), LOCAL);
    const blank = callerPrincipal(signedBy('  '), LOCAL);
    const notText = callerPrincipal(signedBy(42), LOCAL);

    // Assess
    expect(unsigned).toEqual({ id: LOCAL, arn: LOCAL });
    expect(blank.id).toBe(LOCAL);
    expect(notText.id).toBe(LOCAL);
    expect(iamCallerArn(httpEvent('POST /batches', { caller: null }))).toBeUndefined();
  });

  it('refuses with a 403 naming the context when there is neither (as in AWS without IAM)', () => {
    // Prepare
    let caught: unknown;

    // Act
    try {
      callerPrincipal(httpEvent('POST /batches', { caller: null }), undefined);
    } catch (error) {
      caught = error;
    }
    const response = errorResponse(caught);

    // Assess
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(String(response.body))).toEqual({
      error: 'forbidden',
      field: 'requestContext.authorizer.iam',
      message: expect.stringContaining('no IAM caller'),
    });
  });

  it('reads the local identity from LOCAL_CALLER_PRINCIPAL by default', () => {
    // Prepare
    const saved = process.env.LOCAL_CALLER_PRINCIPAL;
    process.env.LOCAL_CALLER_PRINCIPAL = LOCAL;

    // Act
    let principal: ReturnType<typeof callerPrincipal>;
    try {
      principal = callerPrincipal(httpEvent('POST /batches', { caller: null }));
    } finally {
      if (saved === undefined) delete process.env.LOCAL_CALLER_PRINCIPAL;
      else process.env.LOCAL_CALLER_PRINCIPAL = saved;
    }

    // Assess
    expect(principal.id).toBe(LOCAL);
  });
});

describe('apiCaller', () => {
  it('names an admin by its ARN, a role by every session of it, and nobody else', () => {
    // Prepare
    const admins = [
      'arn:aws:iam::123456789012:role/ops/Oncall',
      'arn:aws:iam::123456789012:user/root-ops',
    ];

    // Act
    const session = apiCaller(
      signedBy('arn:aws:sts::123456789012:assumed-role/Oncall/pager-7'),
      admins,
    );
    const user = apiCaller(signedBy('arn:aws:iam::123456789012:user/root-ops'), admins);
    const other = apiCaller(
      signedBy('arn:aws:sts::123456789012:assumed-role/Submitter/ci'),
      admins,
    );
    const nobody = apiCaller(signedBy('arn:aws:iam::123456789012:user/root-ops'), []);

    // Assess
    expect(session).toEqual({ id: 'arn:aws:sts::123456789012:assumed-role/Oncall', admin: true });
    expect(user.admin).toBe(true);
    expect(other).toEqual({ id: 'arn:aws:sts::123456789012:assumed-role/Submitter', admin: false });
    expect(nobody.admin).toBe(false);
  });
});
