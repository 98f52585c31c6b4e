/**
 * DynamoDB item sizes and capacity units, by the published rules: an item's size is the sum of its
 * attribute names and values (strings as UTF-8, numbers ~1 byte per 2 significant digits + 1,
 * binary as its bytes, booleans/null 1 byte, lists and maps 3 bytes + 1 per element + contents).
 * Reads: 4 KB units (eventually consistent: half); writes: 1 KB units; transactional items cost
 * double. A KEYS_ONLY index entry (keys + 100 bytes overhead) is under 1 KB: 1 WCU per change.
 */
export function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') {
    const digits =
      String(Math.abs(value))
        .replace(/[.e+-]/g, '')
        .replace(/^0+/, '') || '0';
    return Math.ceil(digits.length / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value))
    return 3 + value.reduce((sum: number, element) => sum + 1 + valueSize(element), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (sum, [name, element]) => sum + 1 + Buffer.byteLength(name, 'utf8') + valueSize(element),
        0,
      )
    );
  }
  throw new Error(`no size rule for ${typeof value}`);
}

export function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueSize(value),
    0,
  );
}

export function writeUnits(bytes: number, transactional = false): number {
  return Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
}

export function readUnits(bytes: number, consistent = true): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}
