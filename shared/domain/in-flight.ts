/**
 * The in-flight caps (docs/deploy.md, "Deployment settings and maxima"): how many batches one
 * caller may have running (MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL) and how many essays all running
 * batches may hold together (MAX_ESSAYS_IN_FLIGHT). A batch is counted when it starts running and
 * released when it becomes final; the store does both in the same transaction as the status
 * change. This module decides, from the counts, whether one more batch fits and what to say when
 * it does not.
 */
import { DEFAULT_CONFIG } from './config.ts';

export interface InFlightCaps {
  /** MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL. */
  maxBatchesPerPrincipal: number;
  /** MAX_ESSAYS_IN_FLIGHT. */
  maxEssaysInFlight: number;
}

export const DEFAULT_IN_FLIGHT_CAPS: Readonly<InFlightCaps> = Object.freeze({
  maxBatchesPerPrincipal: DEFAULT_CONFIG.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
  maxEssaysInFlight: DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT,
});

/** What is in flight now: the caller's running batches and every running batch's essays. */
export interface InFlightCounts {
  principalBatches: number;
  essays: number;
}

export type InFlightLimit = 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL' | 'MAX_ESSAYS_IN_FLIGHT';

/** Why one more batch does not fit: the limit, its value, what is in flight and what was asked. */
export interface CapRefusal {
  limit: InFlightLimit;
  max: number;
  in_flight: number;
  requested: number;
}

/** The refusal for one more batch of `essays` essays, or null when it fits under both caps. */
export function capRefusal(
  caps: InFlightCaps,
  counts: InFlightCounts,
  essays: number,
): CapRefusal | null {
  if (counts.principalBatches + 1 > caps.maxBatchesPerPrincipal) {
    return {
      limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
      max: caps.maxBatchesPerPrincipal,
      in_flight: counts.principalBatches,
      requested: 1,
    };
  }
  if (counts.essays + essays > caps.maxEssaysInFlight) {
    return {
      limit: 'MAX_ESSAYS_IN_FLIGHT',
      max: caps.maxEssaysInFlight,
      in_flight: counts.essays,
      requested: essays,
    };
  }
  return null;
}

/**
 * The largest counts that still leave room for one more batch of `essays` essays: the store's
 * conditions are `batches <= batches room` and `essays <= essays room` (negative: never fits).
 */
export function roomFor(
  caps: InFlightCaps,
  essays: number,
): { principalBatches: number; essays: number } {
  return {
    principalBatches: caps.maxBatchesPerPrincipal - 1,
    essays: caps.maxEssaysInFlight - essays,
  };
}

/** The sentence a 429 carries: which limit, its value, what is in flight, and what to do. */
export function capMessage(refusal: CapRefusal): string {
  if (refusal.limit === 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL') {
    return `this caller has ${refusal.in_flight} batches in flight and MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL is ${refusal.max}: retry when one of them ends (or cancel one)`;
  }
  return `${refusal.in_flight} essays are in flight on this deployment and ${refusal.requested} more would pass MAX_ESSAYS_IN_FLIGHT (${refusal.max}): retry when running batches end`;
}
