/**
 * The deployment maxima a request is checked against (docs/deploy.md, "Deployment settings and
 * maxima"): essays per batch, characters per essay and the budget, and the in-flight caps. The request schema holds the
 * largest values the engine allows; a deployment may set lower ones (and a higher budget, up to
 * BUDGET_MAXIMUM_LIMIT), read from its environment by the handlers' composition roots. Over a
 * maximum is a 400 naming the field, on the inline create and on every page of a paged upload.
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { capRefusal, DEFAULT_IN_FLIGHT_CAPS, type InFlightCaps } from '#domain/in-flight.ts';
import { badRequest, tooManyInFlight } from './http-errors.ts';
import type { BatchStore } from './ports.ts';
import type { InFlightReservation } from './store-records.ts';

export interface DeploymentLimits {
  /** MAX_ESSAYS_PER_BATCH: most essays in one batch (inline `essays` or `essay_count`). */
  maxEssaysPerBatch: number;
  /** MAX_ESSAY_CHARS: longest essay text, in UTF-16 code units. */
  maxEssayChars: number;
  /** MAX_BUDGET_PER_BATCH: largest `budget` (a default budget is cut to it). */
  maxBudgetPerBatch: number;
}

/** The limits of a deployment that sets none: the config defaults. */
export const DEFAULT_LIMITS: Readonly<DeploymentLimits> = Object.freeze({
  maxEssaysPerBatch: DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH,
  maxEssayChars: DEFAULT_CONFIG.MAX_ESSAY_CHARS,
  maxBudgetPerBatch: DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH,
});

/** Every essay's text within MAX_ESSAY_CHARS; `essays[i].text` names the first too long. */
export function checkEssayTexts(
  essays: ReadonlyArray<{ text: string }>,
  limits: DeploymentLimits,
): void {
  const index = essays.findIndex((essay) => essay.text.length > limits.maxEssayChars);
  if (index >= 0) {
    throw badRequest(
      `essays[${index}].text`,
      `essay text must be at most ${limits.maxEssayChars} characters (this deployment's MAX_ESSAY_CHARS)`,
    );
  }
}

/** A create request within the deployment's maxima: essays, essay_count, essay texts, budget. */
export function checkCreateLimits(
  request: { essays?: ReadonlyArray<{ text: string }>; essay_count?: number; budget?: number },
  limits: DeploymentLimits,
): void {
  const { maxEssaysPerBatch, maxBudgetPerBatch } = limits;
  if (request.essays !== undefined && request.essays.length > maxEssaysPerBatch) {
    throw badRequest(
      'essays',
      `a batch has at most ${maxEssaysPerBatch} essays (this deployment's MAX_ESSAYS_PER_BATCH)`,
    );
  }
  if (request.essay_count !== undefined && request.essay_count > maxEssaysPerBatch) {
    throw badRequest(
      'essay_count',
      `a batch has at most ${maxEssaysPerBatch} essays (this deployment's MAX_ESSAYS_PER_BATCH)`,
    );
  }
  if (request.essays !== undefined) checkEssayTexts(request.essays, limits);
  if (request.budget !== undefined && request.budget > maxBudgetPerBatch) {
    throw badRequest(
      'budget',
      `budget must be at most ${maxBudgetPerBatch} comparisons (this deployment's MAX_BUDGET_PER_BATCH)`,
    );
  }
}

/** The deployment's in-flight caps (MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL, MAX_ESSAYS_IN_FLIGHT). */
export const capsOf = (deps: { inFlightCaps?: InFlightCaps }): InFlightCaps =>
  deps.inFlightCaps ?? DEFAULT_IN_FLIGHT_CAPS;

/**
 * Who a new batch is counted against, with the caps (docs/deploy.md, "Deployment settings and
 * maxima"). A batch with its essays is counted in its create's transaction; a paged one when it
 * starts, and its create is refused with a 429 at once while a cap is already full.
 */
export async function reservationFor(
  deps: { inFlightCaps?: InFlightCaps; store: Pick<BatchStore, 'getInFlight'> },
  principal: string,
  essays: number,
  paged: boolean,
): Promise<InFlightReservation> {
  const caps = capsOf(deps);
  if (paged) {
    const refusal = capRefusal(caps, await deps.store.getInFlight(principal), essays);
    if (refusal) throw tooManyInFlight(refusal);
  }
  return { principal, caps };
}
