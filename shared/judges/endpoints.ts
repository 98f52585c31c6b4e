/**
 * Where an OpenAI-compatible judge may send the deployment's keys (docs/security.md, "Provider
 * keys and endpoints"): to an endpoint the deployment names (JUDGE_ENDPOINTS, each with its own
 * secret or none), picked by `judge.endpoint`; or, on the local cloud only (the user's own
 * machine, ALLOW_LOOPBACK_BASE_URLS, which the local cloud sets and the stack never does), to a
 * raw `judge.base_url` on a loopback address. Checked when a batch is created (400 naming the
 * field) and again by the judge before any call. Only endpoints the deployment declares batch-capable
 * (JUDGE_BATCH_ENDPOINTS: they implement the OpenAI Batch API shape) take `judge.mode`
 * provider_batch; a raw base_url never does.
 */
import type { JudgeChoice } from '#messages/api.ts';

/** A deployment's endpoint policy: its named endpoints and whether loopback base URLs are allowed. */
export interface EndpointPolicy {
  /** Endpoint name → base URL (JUDGE_ENDPOINTS). */
  endpoints: Readonly<Record<string, string>>;
  /** The local cloud only: a raw base_url to a loopback address is accepted. */
  allowLoopbackBaseUrls: boolean;
  /** Endpoints that speak the OpenAI Batch API (JUDGE_BATCH_ENDPOINTS); none when omitted. */
  batchEndpoints?: readonly string[];
}

/** A deployed stack's policy when nothing else is configured: no endpoints, no raw base URL. */
export const DEPLOYED_POLICY: EndpointPolicy = { endpoints: {}, allowLoopbackBaseUrls: false };

/**
 * True for a URL whose host is a loopback address: 127.0.0.0/8, `[::1]` or `localhost` (the
 * URL parser has already normalized forms like `127.1` or `0x7f.0.0.1`). Anything else —
 * link-local (169.254.0.0/16), private ranges, other names, IPv4-mapped IPv6 — is not.
 */
export function isLoopbackUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface EndpointIssue {
  field: 'judge.endpoint' | 'judge.base_url' | 'judge.mode';
  message: string;
}

function configured(policy: EndpointPolicy): string {
  const names = Object.keys(policy.endpoints);
  return names.length === 0 ? 'none configured' : `configured: ${names.join(', ')}`;
}

function batchCapable(policy: EndpointPolicy): string {
  const names = policy.batchEndpoints ?? [];
  return names.length === 0 ? 'none declared' : `declared: ${names.join(', ')}`;
}

/** Whether the deployment declares this named endpoint to speak the OpenAI Batch API. */
export function isBatchEndpoint(endpoint: string, policy: EndpointPolicy): boolean {
  return (
    Object.hasOwn(policy.endpoints, endpoint) && (policy.batchEndpoints ?? []).includes(endpoint)
  );
}

/** Why this deployment refuses the judge choice's endpoint or base URL, or undefined. */
export function endpointIssue(
  choice: JudgeChoice,
  policy: EndpointPolicy,
): EndpointIssue | undefined {
  if (choice.provider !== 'openai-compatible') return undefined;
  if (choice.endpoint !== undefined) {
    if (!Object.hasOwn(policy.endpoints, choice.endpoint)) {
      return {
        field: 'judge.endpoint',
        message: `endpoint "${choice.endpoint}" is not one of this deployment's (${configured(policy)})`,
      };
    }
    if (choice.mode === 'provider_batch' && !isBatchEndpoint(choice.endpoint, policy)) {
      return {
        field: 'judge.mode',
        message: `provider_batch needs an endpoint that speaks the OpenAI Batch API; this deployment does not declare "${choice.endpoint}" as one (${batchCapable(policy)})`,
      };
    }
    return undefined;
  }
  if (choice.mode === 'provider_batch') {
    return {
      field: 'judge.mode',
      message: `provider_batch needs a named endpoint that speaks the OpenAI Batch API (${batchCapable(policy)}); a base_url has none`,
    };
  }
  if (choice.base_url === undefined) {
    return { field: 'judge.endpoint', message: "name one of the deployment's endpoints" };
  }
  if (!policy.allowLoopbackBaseUrls) {
    return {
      field: 'judge.base_url',
      message: `this deployment accepts no base_url: name one of its endpoints with judge.endpoint (${configured(policy)})`,
    };
  }
  if (!isLoopbackUrl(choice.base_url)) {
    return {
      field: 'judge.base_url',
      message:
        'on the local cloud base_url must be a loopback address (127.0.0.0/8, [::1] or localhost); name an endpoint for any other server',
    };
  }
  return undefined;
}

/** Thrown by `compatibleTarget` when the policy refuses the choice (the judge fails the call). */
export class EndpointRefusedError extends Error {
  constructor(readonly issue: EndpointIssue) {
    super(`${issue.field}: ${issue.message}`);
    this.name = 'EndpointRefusedError';
  }
}

/** Where an OpenAI-compatible choice is sent: the base URL, and the endpoint whose key it uses. */
export function compatibleTarget(
  choice: Extract<JudgeChoice, { provider: 'openai-compatible' }>,
  policy: EndpointPolicy,
): { baseUrl: string; endpoint?: string } {
  const issue = endpointIssue(choice, policy);
  if (issue !== undefined) throw new EndpointRefusedError(issue);
  if (choice.endpoint !== undefined) {
    return { baseUrl: policy.endpoints[choice.endpoint] as string, endpoint: choice.endpoint };
  }
  return { baseUrl: choice.base_url as string };
}
