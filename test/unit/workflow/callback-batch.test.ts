/**
 * One judge invocation's callbacks: sent together once every record has asked or finished, in
 * requests of at most 10; each record's send settles with its own entry (an entry SQS refused, or
 * a request that failed, rejects exactly the sends it carried).
 */
import { describe, expect, it } from 'vitest';
import type { Callback } from '#messages/queue.ts';
import { CallbackNotSentError, InvocationCallbacks } from '#shared/workflow/callback-batch.ts';

function callback(index: number): Callback {
  return {
    v: 1,
    batch_id: 'b1',
    comparison_id: `000001-${String(index).padStart(6, '0')}`,
    outcome: 'verdict',
    winner: 'A',
  };
}

/** A callback queue that records each request and answers from `answer` (indices not sent). */
function recordingQueue(answer: (callbacks: readonly Callback[]) => number[] | Error = () => []) {
  const requests: string[][] = [];
  return {
    requests,
    queues: {
      sendCallbackBatch: async (callbacks: readonly Callback[]) => {
        requests.push(callbacks.map((c) => c.comparison_id));
        const answered = answer(callbacks);
        if (answered instanceof Error) throw answered;
        return answered;
      },
    },
  };
}

const settle = (promise: Promise<void>) =>
  promise.then(
    () => 'sent',
    (error: unknown) => (error instanceof Error ? error.name : 'rejected'),
  );

describe('InvocationCallbacks', () => {
  it('sends nothing until every record has asked or finished, then one request for all', async () => {
    // Prepare
    const { queues, requests } = recordingQueue();
    const callbacks = new InvocationCallbacks(queues, 3);

    // Act
    const first = callbacks.send(callback(1));
    const second = callbacks.send(callback(2));
    await Promise.resolve();
    const before = requests.length;
    callbacks.settled(); // the third record finished without a callback

    // Assess
    expect(before).toBe(0);
    expect(await Promise.all([settle(first), settle(second)])).toEqual(['sent', 'sent']);
    expect(requests).toEqual([['000001-000001', '000001-000002']]);
  });

  it('sends at most 10 callbacks per request', async () => {
    // Prepare
    const { queues, requests } = recordingQueue();
    const callbacks = new InvocationCallbacks(queues, 12);

    // Act
    const sends = Array.from({ length: 12 }, (_, i) => callbacks.send(callback(i)));
    await Promise.all(sends);

    // Assess
    expect(requests.map((r) => r.length)).toEqual([10, 2]);
  });

  it('rejects exactly the sends whose entries SQS did not accept', async () => {
    // Prepare
    const { queues } = recordingQueue(() => [1, 3]);
    const callbacks = new InvocationCallbacks(queues, 4);

    // Act
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map((i) => settle(callbacks.send(callback(i)))),
    );

    // Assess
    expect(outcomes).toEqual([
      'sent',
      CallbackNotSentError.name,
      'sent',
      CallbackNotSentError.name,
    ]);
  });

  it('rejects every send of a request that failed as a whole, with its error', async () => {
    // Prepare
    const failure = new Error('network down');
    failure.name = 'NetworkError';
    const { queues } = recordingQueue(() => failure);
    const callbacks = new InvocationCallbacks(queues, 2);

    // Act
    const outcomes = await Promise.all([0, 1].map((i) => settle(callbacks.send(callback(i)))));

    // Assess
    expect(outcomes).toEqual(['NetworkError', 'NetworkError']);
  });

  it('lets a record send again after its first send settled (a second copy goes in a later request)', async () => {
    // Prepare
    const { queues, requests } = recordingQueue();
    const callbacks = new InvocationCallbacks(queues, 2);

    // Act: record 1 sends two copies one after the other; record 2 sends once, then finishes.
    const recordOne = (async () => {
      await callbacks.send(callback(1));
      await callbacks.send(callback(1));
      callbacks.settled();
    })();
    const recordTwo = (async () => {
      await callbacks.send(callback(2));
      callbacks.settled();
    })();
    await Promise.all([recordOne, recordTwo]);

    // Assess
    expect(requests).toEqual([['000001-000001', '000001-000002'], ['000001-000001']]);
  });
});
