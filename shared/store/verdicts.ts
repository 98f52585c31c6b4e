/**
 * The compact binary form of one closed wave's comparisons (the VERDICTS items of the per-wave
 * ledger, docs/data-model.md "Per-wave ledger"). A comparison item is ~300 bytes on the table; here
 * a mock verdict takes 5–7 bytes and an LLM verdict with its usage ~20, so the continuation reads
 * the history of 75,000 comparisons as ~0.5 MB instead of ~24 MB. Lossless for every field
 * `decide` and the finalization read (`ComparisonRecord`), in the order given, so a decision from
 * decoded verdicts is the decision from the comparison items.
 *
 * Layout (version 1): u8 version, varint count, then per record: varint a, varint b, u8 flags
 * (bits 0–1 status, 2 winner B, 3–4 kind, 5 resample pass, 6 usage, 7 attempt), then when FAILED a
 * u8 failure kind (index + 1, 0 none), then varint attempt, varint resample pass, and the usage:
 * u8 flags (input, output, cost, cost null, order flip, order flip value, extra fields), varints,
 * f64 cost and, for fields this codec does not know, their JSON (so a field added to the usage
 * later is kept, not dropped).
 */
import type { ComparisonUsage } from '#domain/judge-usage.ts';
import {
  type ComparisonRecord,
  type ComparisonStatus,
  FAILURE_KINDS,
  type WaveKind,
} from '#domain/types.ts';

const VERSION = 1;
const STATUSES: readonly ComparisonStatus[] = ['PENDING', 'COMPLETED', 'FAILED'];
const KINDS: readonly WaveKind[] = ['coverage', 'resample', 'retry'];
const KNOWN_USAGE = new Set(['input_tokens', 'output_tokens', 'cost_usd', 'order_flip']);

const Flag = { WinnerB: 1 << 2, ResamplePass: 1 << 5, Usage: 1 << 6, Attempt: 1 << 7 } as const;

const UsageFlag = {
  Input: 1,
  Output: 2,
  Cost: 4,
  CostNull: 8,
  OrderFlip: 16,
  OrderFlipValue: 32,
  Extra: 64,
} as const;

class Writer {
  private bytes = new Uint8Array(256);
  length = 0;

  private room(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  u8(value: number): void {
    this.room(1);
    this.bytes[this.length++] = value;
  }

  /** Unsigned LEB128 (values up to 2^53). */
  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`verdict codec: ${value} is not a non-negative integer`);
    }
    let rest = value;
    while (rest >= 0x80) {
      this.u8((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.u8(rest);
  }

  f64(value: number): void {
    this.room(8);
    new DataView(this.bytes.buffer).setFloat64(this.length, value, true);
    this.length += 8;
  }

  text(value: string): void {
    const encoded = new TextEncoder().encode(value);
    this.varint(encoded.length);
    this.room(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class Reader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    if (this.offset >= this.bytes.length) throw new RangeError('verdict codec: truncated data');
    return this.bytes[this.offset++] as number;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  f64(): number {
    if (this.offset + 8 > this.bytes.length) throw new RangeError('verdict codec: truncated data');
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  text(): string {
    const length = this.varint();
    if (this.offset + length > this.bytes.length) {
      throw new RangeError('verdict codec: truncated data');
    }
    const value = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  done(): boolean {
    return this.offset === this.bytes.length;
  }
}

function writeUsage(out: Writer, usage: ComparisonUsage): void {
  const extra = Object.entries(usage).filter(([name]) => !KNOWN_USAGE.has(name));
  let flags = 0;
  if (usage.input_tokens !== undefined) flags |= UsageFlag.Input;
  if (usage.output_tokens !== undefined) flags |= UsageFlag.Output;
  if (typeof usage.cost_usd === 'number') flags |= UsageFlag.Cost;
  if (usage.cost_usd === null) flags |= UsageFlag.CostNull;
  if (usage.order_flip !== undefined) flags |= UsageFlag.OrderFlip;
  if (usage.order_flip === true) flags |= UsageFlag.OrderFlipValue;
  if (extra.length > 0) flags |= UsageFlag.Extra;
  out.u8(flags);
  if (usage.input_tokens !== undefined) out.varint(usage.input_tokens);
  if (usage.output_tokens !== undefined) out.varint(usage.output_tokens);
  if (typeof usage.cost_usd === 'number') out.f64(usage.cost_usd);
  if (extra.length > 0) out.text(JSON.stringify(Object.fromEntries(extra)));
}

function readUsage(input: Reader): ComparisonUsage {
  const flags = input.u8();
  const usage: Record<string, unknown> = {};
  if (flags & UsageFlag.Input) usage.input_tokens = input.varint();
  if (flags & UsageFlag.Output) usage.output_tokens = input.varint();
  if (flags & UsageFlag.Cost) usage.cost_usd = input.f64();
  if (flags & UsageFlag.CostNull) usage.cost_usd = null;
  if (flags & UsageFlag.OrderFlip) usage.order_flip = (flags & UsageFlag.OrderFlipValue) !== 0;
  if (flags & UsageFlag.Extra) Object.assign(usage, JSON.parse(input.text()));
  return usage as ComparisonUsage;
}

/** The records of one wave (their `iteration` is the wave's, so it is not stored per record). */
export function encodeVerdicts(records: readonly ComparisonRecord[]): Uint8Array {
  const out = new Writer();
  out.u8(VERSION);
  out.varint(records.length);
  for (const record of records) {
    const status = STATUSES.indexOf(record.status);
    const kind = KINDS.indexOf(record.kind);
    if (status < 0 || kind < 0) {
      throw new RangeError(
        `verdict codec: unknown status or kind (${record.status}, ${record.kind})`,
      );
    }
    let flags = status | (kind << 3);
    if (record.winner === 'B') flags |= Flag.WinnerB;
    if (record.resamplePass !== undefined) flags |= Flag.ResamplePass;
    if (record.usage !== undefined) flags |= Flag.Usage;
    if (record.attempt !== undefined) flags |= Flag.Attempt;
    out.varint(record.a);
    out.varint(record.b);
    out.u8(flags);
    if (record.status === 'FAILED') {
      out.u8(record.failureKind === undefined ? 0 : FAILURE_KINDS.indexOf(record.failureKind) + 1);
    }
    if (record.attempt !== undefined) out.varint(record.attempt);
    if (record.resamplePass !== undefined) out.varint(record.resamplePass);
    if (record.usage !== undefined) writeUsage(out, record.usage);
  }
  return out.result();
}

/** Inverse of encodeVerdicts; every record gets `iteration`. */
export function decodeVerdicts(bytes: Uint8Array, iteration: number): ComparisonRecord[] {
  const input = new Reader(bytes);
  const version = input.u8();
  if (version !== VERSION) throw new RangeError(`verdict codec: unknown version ${version}`);
  const count = input.varint();
  const records: ComparisonRecord[] = [];
  for (let i = 0; i < count; i++) {
    const a = input.varint();
    const b = input.varint();
    const flags = input.u8();
    const status = STATUSES[flags & 3];
    const kind = KINDS[(flags >> 3) & 3];
    if (status === undefined || kind === undefined) {
      throw new RangeError('verdict codec: bad record flags');
    }
    const record: ComparisonRecord = { a, b, status, kind, iteration };
    if (status === 'COMPLETED') record.winner = flags & Flag.WinnerB ? 'B' : 'A';
    if (status === 'FAILED') {
      const failureKind = FAILURE_KINDS[input.u8() - 1];
      if (failureKind !== undefined) record.failureKind = failureKind;
    }
    if (flags & Flag.Attempt) record.attempt = input.varint();
    if (flags & Flag.ResamplePass) record.resamplePass = input.varint();
    if (flags & Flag.Usage) record.usage = readUsage(input);
    records.push(record);
  }
  if (!input.done()) throw new RangeError('verdict codec: trailing bytes');
  return records;
}

/**
 * Decoded verdicts of closed waves, kept by a warm function for the next step of the same batch
 * (closed waves never change, so what is here is always right). Bounded by records, oldest batch
 * evicted first; an entry is tied to the batch's creation instant, so a batch id used again later
 * never sees another batch's verdicts.
 */
export class VerdictCache {
  private readonly batches = new Map<
    string,
    { createdAt: string; waves: Map<number, ComparisonRecord[]> }
  >();
  private records = 0;

  constructor(private readonly maxRecords: number) {}

  get(batchId: string, createdAt: string, iteration: number): ComparisonRecord[] | undefined {
    const entry = this.batches.get(batchId);
    if (!entry || entry.createdAt !== createdAt) return undefined;
    // Most recently used last.
    this.batches.delete(batchId);
    this.batches.set(batchId, entry);
    return entry.waves.get(iteration);
  }

  set(batchId: string, createdAt: string, iteration: number, records: ComparisonRecord[]): void {
    if (records.length > this.maxRecords) return;
    let entry = this.batches.get(batchId);
    if (entry && entry.createdAt !== createdAt) this.drop(batchId);
    entry = this.batches.get(batchId) ?? { createdAt, waves: new Map() };
    this.batches.delete(batchId);
    this.batches.set(batchId, entry);
    this.records -= entry.waves.get(iteration)?.length ?? 0;
    entry.waves.set(iteration, records);
    this.records += records.length;
    for (const oldest of this.batches.keys()) {
      if (this.records <= this.maxRecords || oldest === batchId) break;
      this.drop(oldest);
    }
  }

  private drop(batchId: string): void {
    const entry = this.batches.get(batchId);
    if (!entry) return;
    for (const records of entry.waves.values()) this.records -= records.length;
    this.batches.delete(batchId);
  }
}
