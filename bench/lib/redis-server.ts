/**
 * The Redis server the BullMQ peer runs on: `TOCSIN_BENCH_REDIS_URL`, default 127.0.0.1:6379.
 * When it does not answer, the BullMQ columns are skipped with the reason printed, never faked.
 * Its persistence is switched for the labelled variants with CONFIG SET and put back as it was
 * afterwards (the bench prints that it did); nothing else on the server is touched, and each
 * scenario's queue has a name of its own and is obliterated when done.
 */
import { Redis } from 'ioredis';
import { redact } from './pg-database.js';

export const BENCH_REDIS_URL = process.env.TOCSIN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The persistence a BullMQ column runs with. */
export type RedisPersistence = 'none' | 'aof-everysec';

const SETTINGS: Record<RedisPersistence, readonly (readonly [string, string])[]> = {
  none: [['appendonly', 'no'], ['save', '']],
  'aof-everysec': [['appendonly', 'yes'], ['appendfsync', 'everysec'], ['save', '']],
};

export const PERSISTENCE_LABEL: Record<RedisPersistence, string> = {
  none: 'appendonly no, save ""',
  'aof-everysec': 'appendonly yes, appendfsync everysec',
};

async function withClient<R>(use: (client: Redis) => Promise<R>): Promise<R> {
  const client = new Redis(BENCH_REDIS_URL, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Why BullMQ cannot run (Redis does not answer), or undefined. */
export async function redisSkipReason(): Promise<string | undefined> {
  try {
    await withClient((c) => c.ping());
    return undefined;
  } catch (e) {
    return `Redis at ${redact(BENCH_REDIS_URL)} is not reachable (${(e as Error).message}); set TOCSIN_BENCH_REDIS_URL=redis://... to name a server`;
  }
}

/** "Redis 7.0.15 at redis://127.0.0.1:6379" */
export async function redisFacts(): Promise<string> {
  const info = await withClient((c) => c.info('server'));
  return `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'} at ${redact(BENCH_REDIS_URL)}`;
}

async function configGet(client: Redis, name: string): Promise<string> {
  const pair = (await client.config('GET', name)) as string[];
  return pair[1] ?? '';
}

/** Waits until no AOF rewrite is running (turning appendonly on starts one). */
async function aofSettled(client: Redis): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const info = await client.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && !/aof_rewrite_scheduled:1/.test(info)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs `use` with the server set to `persistence`, then restores the settings it found. Rejects
 * with the server's answer if CONFIG is refused (the caller skips that variant with the reason).
 */
export async function withPersistence<R>(persistence: RedisPersistence, use: () => Promise<R>): Promise<R> {
  return withClient(async (client) => {
    const names = SETTINGS[persistence].map(([name]) => name);
    const before = await Promise.all(names.map(async (name) => [name, await configGet(client, name)] as const));
    const changed = SETTINGS[persistence].filter(([name, value]) => before.find(([n]) => n === name)?.[1] !== value);
    const restore = async () => {
      if (changed.length === 0) return;
      for (const [name, value] of before) await client.config('SET', name, value);
      await aofSettled(client);
      console.log(`  Redis: restored ${before.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(', ')}`);
    };
    if (changed.length > 0) {
      for (const [name, value] of SETTINGS[persistence]) await client.config('SET', name, value);
      await aofSettled(client);
      console.log(`  Redis: CONFIG SET ${changed.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(', ')} for the BullMQ ${persistence} column (was ${before.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(', ')})`);
    }
    // Ctrl-C in the middle: put the settings back, then exit as node would have.
    const onExit = () => void restore().finally(() => process.exit(130));
    process.once('SIGINT', onExit);
    try {
      return await use();
    } finally {
      process.removeListener('SIGINT', onExit);
      await restore();
    }
  });
}
