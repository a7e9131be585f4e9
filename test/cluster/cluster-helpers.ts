/**
 * Several real `tocsin serve` processes on one PostgreSQL database (decisions.md "Many machines"):
 * a config per node (its own NodeName and port, one shared ConnectionString), started as children.
 */
import { join } from 'node:path';
import pg from 'pg';
import { freePort, spawnServer, tempDir, writeConfig, type SpawnedServer } from '../helpers/server.js';
import { testDatabase, type TestDatabase } from '../helpers/postgres.js';

export interface Cluster {
  readonly dir: string;
  readonly db: TestDatabase;
  readonly nodes: SpawnedServer[];
  /** The shared events file of the `File` handler. */
  readonly eventsFile: string;
  readonly pool: pg.Pool;
  /** Start node `i` again (after a kill), on its port. */
  restart(i: number): Promise<SpawnedServer>;
  close(): Promise<void>;
}

/** `sections`: extra config text (action sections, [Actions] keys go in `actionsKeys`). */
export interface ClusterOptions {
  readonly actionsKeys?: string;
  readonly sections?: string;
  readonly leaseTimeout?: string;
  /** The ConnectionString the nodes get, from the test database's (e.g. through a relay). */
  readonly rewriteUrl?: (url: string) => string;
}

export async function startCluster(count: number, options: ClusterOptions = {}): Promise<Cluster> {
  const dir = tempDir('tocsin-cluster-');
  const db = await testDatabase();
  const eventsFile = join(dir, 'events.log');
  const ports: number[] = [];
  const configs: string[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(await freePort());
    configs.push(
      writeConfig(
        dir,
        `[Server]
NodeName=node-${i + 1}
DataDirectory=${join(dir, `data-${i + 1}`)}
ShutdownGrace=0
LogLevel=warn

[Actions]
DatastoreType=postgres
ConnectionString=${options.rewriteUrl ? options.rewriteUrl(db.url) : db.url}
NodeLeaseTimeout=${options.leaseTimeout ?? '15s'}
EnableTestActions=true
MaximumThreads=4
PollInterval=200
OnFinish=File
OnError=File
${options.actionsKeys ?? ''}

[File]
LibraryName=TextFileHandler
FilePath=${eventsFile}
${options.sections ?? ''}
`,
        `node-${i + 1}.cfg`,
      ),
    );
  }
  const nodes: SpawnedServer[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    // One first: it creates the schema; the others find it (they would wait on its lock anyway).
    nodes.push(await spawnServer(configs[0]!, ports[0]!));
    nodes.push(...(await Promise.all(configs.slice(1).map((c, i) => spawnServer(c, ports[i + 1]!)))));
  } catch (e) {
    for (const n of nodes) await n.kill9();
    await pool.end();
    await db.drop();
    throw e;
  }
  return {
    dir,
    db,
    nodes,
    eventsFile,
    pool,
    async restart(i) {
      nodes[i] = await spawnServer(configs[i]!, ports[i]!);
      return nodes[i]!;
    },
    async close() {
      await Promise.all(nodes.map((n) => n.stop()));
      await pool.end();
      await db.drop();
    },
  };
}
