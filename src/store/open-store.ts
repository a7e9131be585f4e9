/**
 * The store the settings ask for (decisions.md "Many machines"): SQLite under DataDirectory, or
 * PostgreSQL at `[Actions] ConnectionString`.
 */
import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import type { Settings } from '../config/settings.js';
import type { EventPlanner, Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  readonly planner: EventPlanner;
  readonly log: Logger;
  /** Where ConnectionString is set, for start-up errors. */
  readonly where?: { readonly file: string; readonly line: number };
}

export async function openStore(settings: Settings, options: OpenStoreOptions): Promise<Store> {
  const { actions } = settings;
  if (actions.datastoreType === 'postgres') {
    // Loaded only when asked for: a SQLite server does not load the pg driver.
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore({
      connectionString: actions.connectionString ?? '',
      planner: options.planner,
      log: options.log,
      leaseTimeoutMs: actions.nodeLeaseTimeoutMs,
      durability: actions.durability,
      ...(options.where ? { where: options.where } : {}),
    });
  }
  return new SqliteStore({ file: join(settings.server.dataDirectory, 'tocsin.db'), durability: actions.durability, planner: options.planner, log: options.log });
}
