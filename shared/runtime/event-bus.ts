/** The workflow's event publisher on EventBridge: one completion/failure event per batch. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BATCH_EVENT_SOURCE,
  type BatchFinishedEvent,
  batchEventDetailType,
} from '#messages/events.ts';
import type { EventPublisher } from '#shared/workflow/ports.ts';
import { readEnv } from './env.ts';
import { lazy } from './lazy.ts';

export interface EventBusOptions {
  eventBridge: EventBridgeClient;
  eventBusName: string;
}

export function eventBridgePublisher(options: EventBusOptions): EventPublisher {
  return {
    async publishBatchEvent(event: BatchFinishedEvent): Promise<void> {
      const response = await options.eventBridge.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: options.eventBusName,
              Source: BATCH_EVENT_SOURCE,
              DetailType: batchEventDetailType(event.status),
              Detail: JSON.stringify(event),
            },
          ],
        }),
      );
      if ((response.FailedEntryCount ?? 0) > 0) {
        const code = response.Entries?.[0]?.ErrorCode ?? 'unknown';
        throw new Error(`completion event for batch ${event.batch_id} was not accepted: ${code}`);
      }
    },
  };
}

const eventBridgeClient = lazy(() => new EventBridgeClient({}));

/** The event bus named by EVENT_BUS_NAME, on the EventBridge client singleton. */
export function eventBusFromEnv(): EventPublisher {
  return eventBridgePublisher({
    eventBridge: eventBridgeClient(),
    eventBusName: readEnv(['EVENT_BUS_NAME']).EVENT_BUS_NAME,
  });
}
