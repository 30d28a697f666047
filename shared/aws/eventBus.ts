import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { boundName } from '../platform/config.js';
import { DependencyError } from '../platform/errors.js';
import type { EventPublisher } from '../platform/events.js';
import { bus, eventSource } from '../platform/resources.js';
import { eventBridge } from './eventBridgeClient.js';
import { translateAwsError } from './errors.js';

/** Publishes to the Telltale bus; a rejected entry is an error, never a silent drop. */
export function eventBusPublisher(busName = boundName('BUS', bus.name)): EventPublisher {
  return {
    async publish(detailType, detail) {
      let failed: number | undefined;
      try {
        const out = await eventBridge().send(
          new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: eventSource, DetailType: detailType, Detail: JSON.stringify(detail) }] }),
        );
        failed = out.FailedEntryCount;
      } catch (error) {
        throw translateAwsError('EventBridge', error);
      }
      if (failed) throw new DependencyError(`EventBridge refused the ${detailType} event.`);
    },
  };
}
