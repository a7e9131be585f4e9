/** Creates an HttpHandler the way the server does: factory + real config reader. */
import assert from 'node:assert/strict';
import { DeliveryError, type EventHandler } from '../../../../src/events/handler.js';
import { httpHandlerFactory } from '../../../../src/events/handlers/http/index.js';
import { httpSection, loadSection, type LoadedSection } from './config.js';
import { neverAborted, sampleEvent } from './events.js';

export interface CreatedHandler extends LoadedSection {
  readonly handler: EventHandler;
}

export function createHandler(keys: Record<string, string | number | boolean>, extra = ''): CreatedHandler {
  const loaded = loadSection(httpSection(keys, extra));
  const handler = httpHandlerFactory.create(loaded.section, loaded.context, true);
  assert.deepEqual(loaded.sink.problems.filter((p) => p.severity === 'error'), [], 'config has no errors');
  assert.ok(handler, 'a handler was created');
  return { ...loaded, handler };
}

/** Delivers one event and returns the DeliveryError it failed with (fails the test on success). */
export async function deliveryFailure(handler: EventHandler, signal = neverAborted): Promise<DeliveryError> {
  try {
    await handler.deliver(sampleEvent(), signal);
  } catch (e) {
    assert.ok(e instanceof DeliveryError, `a DeliveryError, not ${String(e)}`);
    return e;
  }
  return assert.fail('delivery should have failed');
}

/** The message of an error and of all its causes: what a log line could show. */
export function allText(e: unknown): string {
  const parts: string[] = [];
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 8; depth++) {
    parts.push(x instanceof Error ? `${x.name} ${x.message} ${x.stack ?? ''}` : String(x));
    x = x instanceof Error ? x.cause : undefined;
  }
  return parts.join('\n');
}
