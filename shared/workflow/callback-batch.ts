/**
 * The callbacks of one judge invocation, sent together: SendMessageBatch requests of up to 10,
 * made once every record of the invocation has either asked to send its callback or finished
 * without one (docs/judges.md, "Callbacks of one invocation"). One request for an invocation's
 * five records instead of five.
 *
 * Each record's `send` settles with ITS entry: it resolves when SQS accepted the entry and rejects
 * when it did not (after the adapter's retries), or when the whole request failed. So a record
 * whose callback was not sent fails exactly as a failed single send did: the judge gives its lease
 * up and the record is reported in `batchItemFailures`, to be redelivered and judged again —
 * never acknowledged without its callback, and its lease never kept by a delivery that sent
 * nothing.
 *
 * The records of the invocation must run concurrently: a record waits in `send` for the others.
 */
import type { Callback } from '#messages/queue.ts';
import { InvocationGroup } from './invocation-group.ts';
import type { Queues } from './ports.ts';

/** SQS accepts at most 10 entries per SendMessageBatch. */
export const CALLBACKS_PER_REQUEST = 10;

/** A callback SQS did not accept (its entry failed in the batch request). */
export class CallbackNotSentError extends Error {
  constructor(readonly comparisonId: string) {
    super(`the callback of comparison ${comparisonId} was not accepted by the callback queue`);
    this.name = 'CallbackNotSentError';
  }
}

export class InvocationCallbacks {
  private readonly group: InvocationGroup<Callback, undefined>;

  constructor(queues: Pick<Queues, 'sendCallbackBatch'>, records: number) {
    this.group = new InvocationGroup<Callback, undefined>(
      async (callbacks) => {
        const notSent = new Set(await queues.sendCallbackBatch(callbacks));
        return callbacks.map((callback, index) =>
          notSent.has(index) ? new CallbackNotSentError(callback.comparison_id) : undefined,
        );
      },
      records,
      CALLBACKS_PER_REQUEST,
    );
  }

  /** A record's callback: settles when its entry was sent (or was not). */
  readonly send = (callback: Callback): Promise<void> => this.group.ask(callback);

  /** A record finished (whatever it did): it will ask for nothing more. */
  settled(): void {
    this.group.settled();
  }
}

/** Judge deps for one invocation of `records` records: their callbacks are sent together. */
export function withInvocationCallbacks<
  D extends { messaging: Pick<Queues, 'sendCallback' | 'sendCallbackBatch'> },
>(deps: D, records: number): { deps: D; callbacks: InvocationCallbacks } {
  const callbacks = new InvocationCallbacks(deps.messaging, records);
  return {
    deps: { ...deps, messaging: { ...deps.messaging, sendCallback: callbacks.send } },
    callbacks,
  };
}
