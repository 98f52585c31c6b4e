/**
 * The provider batch port: a whole wave of comparisons judged through a provider's asynchronous
 * batch API (OpenAI Batch API, Anthropic Message Batches) at the provider's batch price, results
 * hours later. Each request is the same prompt and answer contract as a synchronous call
 * (`#shared/judges/prompt.ts`), with `custom_id` = the comparison id.
 *
 * Adapters implement `ProviderBatchApi`; the workflow (`#shared/workflow/provider-batches.ts`)
 * decides what to submit, records it, polls, and turns results into callbacks.
 */
import type { FailureKind } from '#domain/types.ts';
import type { CallTokens } from '../llm.ts';
import type { JudgeAnswer, JudgePrompt } from '../prompt.ts';

/** The batch API shapes there are adapters for (a batch-capable named endpoint speaks OpenAI's). */
export type BatchProviderName = 'openai' | 'anthropic';

/**
 * Where a part's provider batch lives: a provider, or a named OpenAI-compatible endpoint
 * (`openai-compatible:<endpoint>`). It namespaces the claim of a provider batch id, since two
 * servers may hand out the same ids.
 */
export type ProviderBatchService = BatchProviderName | `openai-compatible:${string}`;

/** The batch API shape a service speaks. */
export function batchApiShapeOf(service: ProviderBatchService): BatchProviderName {
  return service === 'anthropic' ? 'anthropic' : 'openai';
}

/** What one provider batch may hold (the provider's limits, possibly lowered by config). */
export interface ProviderBatchLimits {
  maxRequests: number;
  /** Bytes of the request lines plus one separator each (the envelope is accounted apart). */
  maxBytes: number;
}

/** Where a provider batch is, in the engine's words. */
export type ProviderBatchPhase = 'running' | 'cancelling' | 'ended';

export interface ProviderBatchStatus {
  id: string;
  phase: ProviderBatchPhase;
  /** The provider's own status word (`in_progress`, `expired`, `ended`…), for logs. */
  providerStatus: string;
  /** When the provider created it (epoch ms). */
  createdAtMs: number;
  /** Requests in the batch as the provider counts them (0 while OpenAI still validates). */
  requestCount: number;
  /** Per-outcome request counts as the provider reports them (for logs). */
  counts: Record<string, number>;
  /** Set when the whole batch failed (OpenAI `failed`: the input was refused): no results. */
  failure?: { kind: FailureKind; reason: string };
  /** Where the results are read from once ended (file ids or a URL); opaque to the workflow. */
  resultSources: readonly string[];
  /** What the provider keeps besides the results that `cleanup` deletes (OpenAI's input file). */
  inputFileId?: string;
}

/** One request's outcome as read from the results. */
export type ProviderResultOutcome =
  | { ok: true; answer: JudgeAnswer; tokens: CallTokens }
  | { ok: false; kind: FailureKind; reason: string };

/** One line of a provider batch's results, in file order (`position` counts across files). */
export type ProviderResultLine =
  | { position: number; customId: string; outcome: ProviderResultOutcome }
  /** A line that could not be read (not JSON, no custom_id, too long): its request stays missing. */
  | { position: number; customId: null; reason: string };

export interface CreateProviderBatchInput {
  /** Unique per wave part; OpenAI stores it as batch metadata so a lookup finds the batch again. */
  submissionKey: string;
  /** The request lines (`requestLine`), streamed into the upload as they are produced. */
  lines: AsyncIterable<string>;
}

export interface FindProviderBatchInput {
  submissionKey: string;
  /** The create call was made in this window (epoch ms). */
  createdFromMs: number;
  createdToMs: number;
}

export interface ProviderBatchApi {
  readonly provider: BatchProviderName;
  readonly limits: ProviderBatchLimits;
  /** How long the provider may take before it ends (expires) a batch by itself. */
  readonly windowSeconds: number;
  /**
   * Whether `find` identifies a submission exactly (OpenAI: by metadata). When false (Anthropic:
   * a batch carries nothing of ours), `find` returns every batch created in the window and the
   * caller must tell them apart.
   */
  readonly findsBySubmissionKey: boolean;
  /** One JSONL request line (no newline) for one comparison; custom_id = the comparison id. */
  requestLine(customId: string, prompt: JudgePrompt): string;
  /** Uploads the lines (streamed) and creates the provider batch. */
  create(input: CreateProviderBatchInput): Promise<ProviderBatchStatus>;
  /** Provider batches this submission may have created (after a crash lost the create's answer). */
  find(input: FindProviderBatchInput): Promise<ProviderBatchStatus[]>;
  retrieve(id: string): Promise<ProviderBatchStatus>;
  /** Streams the results of an ended batch, line by line, never holding a file in memory. */
  results(status: ProviderBatchStatus): AsyncIterable<ProviderResultLine>;
  /** Asks the provider to cancel; requests not yet processed end as canceled. */
  cancel(id: string): Promise<ProviderBatchStatus>;
  /** Deletes what the submission left at the provider (OpenAI: the input file); best effort. */
  cleanup(status: ProviderBatchStatus): Promise<void>;
}
