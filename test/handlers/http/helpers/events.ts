import type { EventDelivery } from '../../../../src/events/handler.js';

let counter = 0;

/** A small event with a unique id and a non-ASCII character, to check UTF-8 end to end. */
export function sampleEvent(overrides: Partial<EventDelivery> = {}): EventDelivery {
  counter++;
  const id = `evt-${process.pid}-${counter}`;
  return {
    id,
    type: 'OnFinish',
    handler: 'Http',
    token: 'TOKEN123',
    queue: 'Sleep',
    document: `<event><type>OnFinish</type><id>${id}</id><action><status>Finished</status><note>café</note></action></event>`,
    request: {},
    attempt: 1,
    ...overrides,
  };
}

export const neverAborted: AbortSignal = new AbortController().signal;
