/**
 * `tocsin serve`: start the server and stop it cleanly on SIGINT/SIGTERM.
 */
import { startServer } from '../server.js';

export async function serve(configFile: string, port?: number): Promise<void> {
  const server = await startServer({ configFile, ...(port !== undefined ? { port } : {}) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info('stopping', { signal });
    server.close().then(
      () => process.exit(0),
      (e) => {
        server.log.error('unclean stop', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
