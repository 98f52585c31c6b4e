/**
 * The calling IAM principal of an HTTP API request. The API is IAM-authorized, so API Gateway puts
 * the signer in the payload v2.0 request context (`requestContext.authorizer.iam`); batches are
 * owned and capped by it (docs/security.md). On the local cloud a request may carry no IAM context:
 * the local cloud then sets LOCAL_CALLER_PRINCIPAL, the documented local identity; the stack never
 * sets it, so in AWS a request without an IAM caller is refused rather than pooled with others.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Caller } from '#shared/workflow/access.ts';
import { HttpError } from '#shared/workflow/http-errors.ts';
import { readEnv } from './env.ts';

export interface CallerPrincipal {
  /**
   * Who owns and is capped: the caller's ARN, and for an assumed role the role's session ARN
   * without the session name (`arn:aws:sts::123456789012:assumed-role/Role`), so that fresh
   * sessions of one role are one principal and cannot each take a new quota.
   */
  id: string;
  /** The ARN exactly as the request context gave it (session name included), for audit. */
  arn: string;
}

/** The IAM fields this module reads; API Gateway sends more (access key, caller id, ...). */
interface IamAuthorizerContext {
  iam?: { userArn?: unknown };
}

/** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` → `arn:aws:sts::ACCOUNT:assumed-role/ROLE`. */
export function principalId(arn: string): string {
  const match = /^(arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+)\/[^/]+$/.exec(arn);
  return match?.[1] ?? arn;
}

/** The IAM caller's ARN from the request context, or undefined when it carries none. */
export function iamCallerArn(event: APIGatewayProxyEventV2): string | undefined {
  const context = event.requestContext as { authorizer?: IamAuthorizerContext };
  const arn = context.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn.trim() !== '' ? arn.trim() : undefined;
}

/**
 * The request's caller: the IAM principal from the request context, else `localPrincipal` (the
 * local cloud's identity, LOCAL_CALLER_PRINCIPAL, by default from the environment), else a 403.
 */
export function callerPrincipal(
  event: APIGatewayProxyEventV2,
  localPrincipal: string | undefined = readEnv(['LOCAL_CALLER_PRINCIPAL']).LOCAL_CALLER_PRINCIPAL,
): CallerPrincipal {
  const arn = iamCallerArn(event) ?? localPrincipal;
  if (arn === undefined) {
    throw new HttpError(403, {
      error: 'forbidden',
      field: 'requestContext.authorizer.iam',
      message: 'the request carries no IAM caller (the API is IAM-authorized)',
    });
  }
  return { id: principalId(arn), arn };
}

/**
 * The request's caller as the API operations see it: its principal id, and whether the deployment
 * names it an admin (ADMIN_PRINCIPALS: an admin ARN matches the caller's ARN or, for a role, every
 * session of it).
 */
export function apiCaller(
  event: APIGatewayProxyEventV2,
  admins: readonly string[] = readEnv(['ADMIN_PRINCIPALS']).ADMIN_PRINCIPALS,
): Caller {
  const principal = callerPrincipal(event);
  const admin = admins.some(
    (arn) => arn === principal.arn || arn === principal.id || roleOf(arn) === principal.id,
  );
  return { id: principal.id, admin };
}

/** `arn:aws:iam::ACCOUNT:role/NAME` → the id of its sessions, `arn:aws:sts::ACCOUNT:assumed-role/NAME`. */
function roleOf(arn: string): string | undefined {
  const match = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match ? `arn:${match[1]}:sts::${match[2]}:assumed-role/${match[3]}` : undefined;
}
