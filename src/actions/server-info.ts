/**
 * GetVersion and GetStatus (idol-reference.md §9.3).
 */
import { formatActionTime } from '../common/dates.js';
import { el, parent, repeating } from '../common/xnode.js';
import type { SyncAction } from '../aci/action-table.js';
import type { Scheduler } from '../queue/scheduler.js';
import type { Store } from '../store/store.js';
import { PRODUCT, VERSION } from '../version.js';

export interface ServerInfoDeps {
  readonly scheduler: Scheduler;
  readonly store: Store;
  readonly startedAt: number;
  readonly port: number;
  readonly dataDirectory: string;
  readonly datastore: string;
  /** This node's name. */
  readonly node: string;
}

export function getVersionAction(deps: Pick<ServerInfoDeps, 'startedAt' | 'dataDirectory'>): SyncAction {
  return {
    name: 'GetVersion',
    role: 'servicestatus',
    async run() {
      const now = Date.now();
      const up = Math.floor((now - deps.startedAt) / 1000);
      return [
        el('autn:aciversion', '1.0'),
        el('autn:product', PRODUCT),
        el('autn:version', VERSION),
        el('autn:build', VERSION),
        el('autn:directory', deps.dataDirectory),
        parent('autn:servertime', [el('autn:epoch', Math.floor(now / 1000)), el('autn:string', formatActionTime(now))]),
        parent('autn:uptime', [el('autn:seconds', up), el('autn:string', `${Math.floor(up / 86400)}d ${new Date(up * 1000).toISOString().slice(11, 19)}`)]),
      ];
    },
  };
}

export function getStatusAction(deps: ServerInfoDeps): SyncAction {
  return {
    name: 'GetStatus',
    role: 'admin',
    async run() {
      // Every node sharing the store, with its last heartbeat (decisions.md "Many machines").
      const nodes = await deps.store.nodes(Date.now());
      const queues = await Promise.all(
        deps.scheduler.queueNames().map(async (name) => {
          const c = await deps.store.queueCounts(name);
          const settings = deps.scheduler.lookup(name)!.settings;
          return repeating(
            parent('queue', [
              el('name', name),
              el('paused', c.paused),
              el('queued', c.queued),
              el('processing', c.processing),
              el('maximum_threads', settings.maxThreads),
              el('maximum_queue_size', settings.maxQueueSize),
            ]),
          );
        }),
      );
      return [
        el('product', PRODUCT),
        el('version', VERSION),
        el('build', VERSION),
        el('aciport', deps.port),
        el('directory', deps.dataDirectory),
        el('datastore', deps.datastore),
        el('uptime_seconds', Math.floor((Date.now() - deps.startedAt) / 1000)),
        el('running_actions', deps.scheduler.running.size),
        el('node', deps.node),
        parent('nodes', nodes.map((n) => repeating(parent('node', [el('name', n.name), el('alive', n.alive), el('last_heartbeat', formatActionTime(n.heartbeatAt))])))),
        parent('queues', queues),
      ];
    },
  };
}
