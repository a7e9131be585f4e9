/**
 * Reading a config file the way `serve` and `check-config` both need it: settings, then the
 * handlers of every handler section, then the unused-section warnings, with all problems in one
 * sink. `start=false` (check-config) validates handlers without opening anything.
 */
import { checkServerTls } from './aci/server-tls.js';
import { silentLogger } from './common/logger.js';
import { loadSettings, type LoadedConfig } from './config/load-settings.js';
import type { HandlerContext, HandlerRegistry } from './events/handler.js';
import { createHandlers, type ConfiguredHandler } from './events/handler-setup.js';

export interface PreparedConfig {
  readonly loaded: LoadedConfig;
  readonly handlers: Map<string, ConfiguredHandler>;
}

export function prepareConfig(
  file: string,
  options: { codeActions: readonly string[]; registry: HandlerRegistry; contextFor?: (section: string, loaded: LoadedConfig) => HandlerContext; start: boolean },
): PreparedConfig {
  const loaded = loadSettings(file, { codeActions: options.codeActions });
  const contextFor = options.contextFor ?? ((_section: string, l: LoadedConfig) => checkContext(l));
  checkServerTls(loaded);
  const handlers = createHandlers(loaded, options.registry, (section) => contextFor(section, loaded), options.start);
  loaded.reportUnusedSections();
  return { loaded, handlers };
}

/** The context handlers get during check-config: nothing is delivered. */
function checkContext(loaded: LoadedConfig): HandlerContext {
  return {
    log: silentLogger,
    dataDirectory: loaded.settings.server.dataDirectory,
    send: async () => {},
    readSection: (name) => {
      const r = loaded.section(name);
      return r.exists ? r : undefined;
    },
  };
}
