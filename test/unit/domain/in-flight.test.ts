/**
 * The in-flight caps' pure logic: whether one more batch fits, which limit refuses it (the caller's
 * first), the room the store's conditions use, and the 429's sentence.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  capMessage,
  capRefusal,
  DEFAULT_IN_FLIGHT_CAPS,
  type InFlightCaps,
  roomFor,
} from '#domain/in-flight.ts';

const CAPS: InFlightCaps = { maxBatchesPerPrincipal: 2, maxEssaysInFlight: 30 };

describe('capRefusal', () => {
  it('accepts a batch that fits under both caps, up to exactly the caps', () => {
    // Act
    const empty = capRefusal(CAPS, { principalBatches: 0, essays: 0 }, 10);
    const lastSlot = capRefusal(CAPS, { principalBatches: 1, essays: 20 }, 10);

    // Assess
    expect(empty).toBeNull();
    expect(lastSlot).toBeNull();
  });

  it("refuses the caller's third batch naming MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL", () => {
    // Act
    const refusal = capRefusal(CAPS, { principalBatches: 2, essays: 4 }, 2);

    // Assess
    expect(refusal).toEqual({
      limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
      max: 2,
      in_flight: 2,
      requested: 1,
    });
  });

  it('refuses a batch that would pass the essay total naming MAX_ESSAYS_IN_FLIGHT', () => {
    // Act
    const refusal = capRefusal(CAPS, { principalBatches: 0, essays: 21 }, 10);
    const neverFits = capRefusal(CAPS, { principalBatches: 0, essays: 0 }, 31);

    // Assess
    expect(refusal).toEqual({
      limit: 'MAX_ESSAYS_IN_FLIGHT',
      max: 30,
      in_flight: 21,
      requested: 10,
    });
    expect(neverFits).toMatchObject({ limit: 'MAX_ESSAYS_IN_FLIGHT', in_flight: 0, requested: 31 });
  });

  it("names the caller's cap first when both are full", () => {
    // Act
    const refusal = capRefusal(CAPS, { principalBatches: 2, essays: 30 }, 5);

    // Assess
    expect(refusal?.limit).toBe('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL');
  });
});

describe('roomFor', () => {
  it('is the largest count that still leaves room (negative: the batch can never fit)', () => {
    // Act
    const room = roomFor(CAPS, 10);
    const never = roomFor(CAPS, 31);

    // Assess
    expect(room).toEqual({ principalBatches: 1, essays: 20 });
    expect(never.essays).toBe(-1);
  });
});

describe('capMessage and the defaults', () => {
  it('says the limit, its value and what is in flight', () => {
    // Act
    const batches = capMessage({
      limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
      max: 2,
      in_flight: 2,
      requested: 1,
    });
    const essays = capMessage({
      limit: 'MAX_ESSAYS_IN_FLIGHT',
      max: 30,
      in_flight: 25,
      requested: 8,
    });

    // Assess
    expect(batches).toContain('2 batches in flight');
    expect(batches).toContain('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL is 2');
    expect(essays).toContain('25 essays are in flight');
    expect(essays).toContain('8 more would pass MAX_ESSAYS_IN_FLIGHT (30)');
  });

  it('takes the defaults from the config module, the essay total above the largest batch', () => {
    // Assess
    expect(DEFAULT_IN_FLIGHT_CAPS).toEqual({
      maxBatchesPerPrincipal: DEFAULT_CONFIG.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
      maxEssaysInFlight: DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT,
    });
    expect(DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT).toBeGreaterThanOrEqual(
      DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH,
    );
  });
});
