/**
 * Synthetic essays for tests: ids `e000`.., a latent quality per essay in `metadata.quality`
 * (what the mock judge decides from), and neutral filler text (no personal data).
 */
import type { EssayInput } from '#cli/api.ts';
import { seededRandom } from '#domain/random.ts';

export interface EssayFactoryOptions {
  seed?: number;
  /** Spread of the latent quality (logits), like the mock judge's true SD. */
  qualitySd?: number;
  textLength?: number;
}

export function makeEssays(count: number, options: EssayFactoryOptions = {}): EssayInput[] {
  const random = seededRandom(options.seed ?? 7);
  const sd = options.qualitySd ?? 1.5;
  return Array.from({ length: count }, (_, index) => {
    // Box–Muller: a normal latent quality, like a real cohort.
    const u = Math.max(random(), Number.EPSILON);
    const quality = sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    const id = `e${String(index).padStart(3, '0')}`;
    const text = `Synthetic test essay ${id}. `.repeat(
      Math.max(1, Math.round((options.textLength ?? 60) / 28)),
    );
    return { id, text, metadata: { quality: Number(quality.toFixed(4)) } };
  });
}
