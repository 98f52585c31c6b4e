/**
 * A create request's judge choice, checked against the deployment: the provider allowed here
 * (ALLOWED_PROVIDERS), its endpoint or base URL allowed by the endpoint policy (docs/security.md),
 * and a mock judge's profile known. Each refusal is a 400 naming the field.
 */
import { mockJudgeSettingsSchema } from '#domain/mock-judge.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { formatPath } from '#messages/validation.ts';
import { DEPLOYED_POLICY, type EndpointPolicy, endpointIssue } from '#shared/judges/endpoints.ts';
import { badRequest } from './http-errors.ts';

/** The per-batch judge choice: allowed by this deployment and valid for its provider. */
export function validateJudge(
  judge: JudgeChoice,
  deps: {
    /** Judge providers this deployment accepts (ALLOWED_PROVIDERS). */
    allowedProviders: readonly string[];
    /** Named endpoints, loopback base URLs (local cloud); none and no if absent. */
    endpointPolicy?: EndpointPolicy;
  },
): JudgeChoice {
  const allowed = deps.allowedProviders;
  if (!allowed.includes(judge.provider)) {
    throw badRequest(
      'judge.provider',
      `provider "${judge.provider}" is not allowed here (allowed: ${allowed.join(', ')})`,
    );
  }
  const refused = endpointIssue(judge, deps.endpointPolicy ?? DEPLOYED_POLICY);
  if (refused) throw badRequest(refused.field, refused.message);
  // LLM choices were fully validated by the request schema; the mock also needs a known profile.
  if (judge.provider !== 'mock') return judge;
  const parsed = mockJudgeSettingsSchema.safeParse(judge);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(
      formatPath(['judge', ...(issue?.path ?? [])]),
      issue?.message ?? 'invalid judge',
    );
  }
  return judge;
}
