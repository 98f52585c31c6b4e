/**
 * What the judge reads for one comparison request, on DynamoDB: META (is the batch still
 * RUNNING?), the comparison item (is it already answered?), the two essays and, unless this
 * function read them before, the batch's settings (its judge choice) — all in ONE strongly
 * consistent BatchGetItem, so judging a comparison costs one DynamoDB request before the provider
 * call (docs/data-model.md, "Access patterns").
 */
import type { JudgeStore } from '#shared/workflow/ports.ts';
import type {
  BatchMeta,
  JudgeContext,
  StoredComparison,
  StoredEssay,
} from '#shared/workflow/store-records.ts';
import { comparisonSk, essaySk, META_SK, SETTINGS_SK } from '#store/keys.ts';
import { stripKeys, type Table } from '#store/table.ts';
import { SK } from '#store/table-schema.ts';

export function dynamoJudging(table: Table): JudgeStore {
  return {
    async loadJudgeContext(batchId, comparisonId, indices): Promise<JudgeContext> {
      const cached = table.cachedSettings(batchId);
      const essayKeys = [...new Set(indices)].map(essaySk);
      const sortKeys = [META_SK, comparisonSk(comparisonId), ...essayKeys];
      if (!cached) sortKeys.push(SETTINGS_SK);
      const items = await table.getAll(batchId, sortKeys, true);
      const bySortKey = new Map(items.map((item) => [String(item[SK]), item]));
      const meta = bySortKey.get(META_SK);
      const comparison = bySortKey.get(comparisonSk(comparisonId));
      const essays = new Map<number, StoredEssay>();
      for (const key of essayKeys) {
        const item = bySortKey.get(key);
        if (!item) continue;
        const essay = stripKeys<StoredEssay>(item);
        essays.set(essay.index, essay);
      }
      return {
        batch: meta ? stripKeys<BatchMeta>(meta) : null,
        comparisonStatus: comparison ? (comparison.status as StoredComparison['status']) : null,
        essays,
        settings: cached ?? table.rememberSettings(batchId, bySortKey.get(SETTINGS_SK)),
      };
    },
  };
}
