/**
 * Creating the handlers of every handler section the config references (decisions.md
 * "Handlers"): the `LibraryName` picks the factory from the registry; the engine's own keys
 * (`Retries`, `RetryInterval`, `MaxConcurrentDeliveries`) are read here, the rest by the factory.
 * Every problem is reported with file:line before any action runs.
 */
import type { LoadedConfig } from '../config/load-settings.js';
import { MAX_TIMER_MS } from '../common/timers.js';
import type { DeliveryPolicy, EventHandler, HandlerContext, HandlerRegistry } from './handler.js';

export interface ConfiguredHandler {
  /** Section name as written. */
  readonly name: string;
  readonly libraryName: string;
  readonly handler: EventHandler;
  readonly policy: DeliveryPolicy;
  /** Deliveries in flight at once (across actions; one per action at a time). */
  readonly concurrency: number;
}

export function createHandlers(
  loaded: LoadedConfig,
  registry: HandlerRegistry,
  contextFor: (section: string) => HandlerContext,
  start: boolean,
): Map<string, ConfiguredHandler> {
  const handlers = new Map<string, ConfiguredHandler>();
  for (const [key, { name }] of loaded.settings.handlers) {
    const r = loaded.section(name);
    if (!r.exists) continue; // reported by the settings loader
    const libraryName = r.string('LibraryName', { required: true });
    if (!libraryName) continue;
    const factory = registry.get(libraryName);
    if (!factory) {
      r.error('LibraryName', `${r.quoted('LibraryName')} is not a handler library (known: ${registry.names().join(', ')})`, 'CONFIG_VALUE');
      continue;
    }
    const policy: DeliveryPolicy = {
      retries: r.int('Retries', { default: factory.defaultPolicy.retries, min: 0, max: 1000 })!,
      retryIntervalMs: r.duration('RetryInterval', { bareUnit: 's', default: factory.defaultPolicy.retryIntervalMs, min: 0, max: MAX_TIMER_MS })!,
    };
    const concurrency = r.int('MaxConcurrentDeliveries', { default: 16, min: 1, max: 1024 })!;
    const handler = factory.create(r, contextFor(name), start);
    r.finish();
    if (handler) handlers.set(key, { name: r.name, libraryName: factory.libraryName, handler, policy, concurrency });
  }
  return handlers;
}
