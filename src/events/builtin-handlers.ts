/**
 * The handler libraries Tocsin ships (idol-reference.md §4). Library users add their own with
 * `registry.register(...)` or `startServer({ handlers })`.
 */
import { HandlerRegistry, type HandlerFactory } from './handler.js';
import { textFileHandlerFactory } from './handlers/textfile.js';
import { httpHandlerFactory } from './handlers/http/index.js';
import { luaHandlerFactory } from './handlers/lua/index.js';

export function builtinHandlerRegistry(extra: readonly HandlerFactory[] = []): HandlerRegistry {
  const registry = new HandlerRegistry().register(textFileHandlerFactory).register(httpHandlerFactory).register(luaHandlerFactory);
  for (const f of extra) registry.register(f);
  return registry;
}
