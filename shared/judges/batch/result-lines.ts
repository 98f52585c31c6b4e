/**
 * The results file of a provider batch, decoded line by line the same way for every provider:
 * a line too long or without a readable `custom_id` leaves its request missing; the rest carry
 * the provider's outcome, decoded by `outcomeOf`.
 */
import { stringField } from './http.ts';
import { parseJsonObject, readJsonlLines } from './jsonl.ts';
import type { ProviderResultLine, ProviderResultOutcome } from './port.ts';

/** `firstPosition` continues the count of earlier files, so positions run across files. */
export async function* decodeResultLines(
  bytes: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
  firstPosition: number,
  outcomeOf: (parsed: Record<string, unknown>) => ProviderResultOutcome,
): AsyncGenerator<ProviderResultLine> {
  let position = firstPosition;
  for await (const line of readJsonlLines(bytes, maxLineBytes)) {
    const at = position++;
    if ('tooLong' in line) {
      yield { position: at, customId: null, reason: 'result_line_too_long' };
      continue;
    }
    const parsed = parseJsonObject(line.text);
    const customId = stringField(parsed, 'custom_id');
    if (!parsed || !customId) {
      yield { position: at, customId: null, reason: 'result_line_unreadable' };
      continue;
    }
    yield { position: at, customId, outcome: outcomeOf(parsed) };
  }
}
