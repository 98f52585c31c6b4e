/**
 * What the records of one SQS invocation ask for together: each record's `ask` waits until every
 * record of the invocation has either asked or finished without asking, then the waiting items go
 * out in one call of `handle` (or in calls of at most `perCall` as soon as that many wait). Each
 * record settles with ITS answer — `handle` returns one per item, an Error rejecting that item
 * alone — or with the error of the whole call.
 *
 * Used by the judge (an invocation's callbacks in SendMessageBatch requests, callback-batch.ts) and
 * the callback function (an invocation's callbacks in one transaction per batch, callback.ts). The
 * records of the invocation must run concurrently, and each calls `settled()` when it ends.
 */
export class InvocationGroup<I, O> {
  /** Records that are neither waiting in `ask` nor finished. */
  private running: number;
  private waiting: Array<{
    item: I;
    resolve: (answer: O) => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(
    private readonly handle: (items: I[]) => Promise<ReadonlyArray<O | Error>>,
    records: number,
    private readonly perCall = Number.POSITIVE_INFINITY,
  ) {
    this.running = records;
  }

  /** A record's item: settles with its answer once the call that carried it returned. */
  readonly ask = (item: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.running -= 1;
      this.flushIfReady();
    });

  /** A record finished (whatever it did): it will ask for nothing more. */
  settled(): void {
    this.running -= 1;
    this.flushIfReady();
  }

  private flushIfReady(): void {
    while (this.waiting.length >= this.perCall) {
      void this.flush(this.waiting.splice(0, this.perCall));
    }
    if (this.running <= 0 && this.waiting.length > 0) void this.flush(this.waiting.splice(0));
  }

  private async flush(entries: typeof this.waiting): Promise<void> {
    let answers: ReadonlyArray<O | Error> = [];
    let error: unknown;
    try {
      answers = await this.handle(entries.map((entry) => entry.item));
    } catch (caught) {
      error = caught ?? new Error('the invocation group call failed');
    }
    entries.forEach((entry, index) => {
      // The record runs again (and will ask or settle once more).
      this.running += 1;
      const answer = answers[index];
      if (error !== undefined) entry.reject(error);
      else if (answer instanceof Error) entry.reject(answer);
      else if (index >= answers.length) entry.reject(new Error('no answer for an item'));
      else entry.resolve(answer as O);
    });
  }
}
