/**
 * How a provider batch result becomes a callback's outcome: a verdict decoded by the same strict
 * decoder as a synchronous answer, or a failure whose reason names what the provider said. Reasons
 * are short codes (never model output or essay text):
 *
 * | provider result                                   | failure kind       | reason                              |
 * | ------------------------------------------------- | ------------------ | ----------------------------------- |
 * | expired (Anthropic `expired`, OpenAI `batch_expired`) | `timeout`      | `provider_batch_expired`            |
 * | canceled (Anthropic `canceled`, OpenAI `batch_cancelled`) | `provider_error` | `provider_batch_canceled`     |
 * | errored (Anthropic `errored`, OpenAI error line)  | by error type      | `provider_batch_errored_<type>`     |
 * | a non-200 response line (OpenAI)                  | by HTTP status     | `provider_batch_http_<status>`      |
 * | the answer breaks the contract                    | `malformed_answer` | as synchronous (`invalid_winner`…)  |
 * | refused                                           | `refusal`          | `refusal`                           |
 * | no line for the request at all                    | `provider_error`   | `provider_batch_missing`            |
 * | the whole batch failed (OpenAI `failed`)          | `invalid_request`  | `provider_batch_failed_<code>`      |
 */
import type { FailureKind } from '#domain/types.ts';
import type { CallOutcome } from '../llm.ts';
import { codeOf } from './http.ts';
import type { ProviderResultOutcome } from './port.ts';

export const MISSING_REASON = 'provider_batch_missing';
export const EXPIRED_REASON = 'provider_batch_expired';
export const CANCELED_REASON = 'provider_batch_canceled';

function failure(kind: FailureKind, reason: string): ProviderResultOutcome {
  return { ok: false, kind, reason };
}

export function expiredOutcome(): ProviderResultOutcome {
  return failure('timeout', EXPIRED_REASON);
}

export function canceledOutcome(): ProviderResultOutcome {
  return failure('provider_error', CANCELED_REASON);
}

/** A request the provider reports as errored, by its error type or code. */
export function erroredOutcome(type: unknown): ProviderResultOutcome {
  const code = codeOf(type, 'unknown');
  const kind: FailureKind =
    code.includes('rate_limit') || code === 'overloaded_error'
      ? 'rate_limited'
      : code.includes('timeout')
        ? 'timeout'
        : code.includes('invalid_request') || code.includes('not_found')
          ? 'invalid_request'
          : 'provider_error';
  return failure(kind, `provider_batch_errored_${code}`);
}

/** A response line with a non-2xx status (the request was answered with an HTTP error). */
export function httpStatusOutcome(status: number): ProviderResultOutcome {
  const kind: FailureKind =
    status === 429
      ? 'rate_limited'
      : status === 408
        ? 'timeout'
        : status >= 500
          ? 'provider_error'
          : 'invalid_request';
  return failure(kind, `provider_batch_http_${status}`);
}

/** An answered request, decoded by the synchronous decoder (same contract, same failures). */
export function decodedOutcome(call: CallOutcome): ProviderResultOutcome {
  if (call.ok) return { ok: true, answer: call.answer, tokens: call.tokens };
  return failure(call.failure.kind, call.failure.reason);
}

/** Every request of a batch the provider refused as a whole. */
export function batchFailedReason(code: unknown): string {
  return `provider_batch_failed_${codeOf(code, 'unknown')}`;
}
