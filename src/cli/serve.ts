/**
 * `tocsin serve`: start the server and stop it on SIGINT/SIGTERM (decisions.md "Shutdown").
 * The first signal stops cleanly: submissions refused, running actions given ShutdownGrace,
 * deliveries finished or left pending, the store closed; exit 0. A second signal exits at once
 * (exit 1): nothing is lost even then, since what was answered is already stored, actions still
 * running are queued again at the next start and undelivered events stay pending.
 */
import { startServer } from '../server.js';

export async function serve(configFile: string, port?: number, prettyLogs = false): Promise<void> {
  const server = await startServer({ configFile, prettyLogs, ...(port !== undefined ? { port } : {}) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      server.log.warn('second signal: exiting at once; running actions run again at the next start, undelivered events stay pending', { signal });
      process.exit(1);
    }
    stopping = true;
    server.log.info('stopping: new submissions are refused, running actions get ShutdownGrace', { signal, shutdownGraceMs: server.settings.server.shutdownGraceMs });
    server.close().then(
      () => {
        server.log.info('stopped');
        process.exit(0);
      },
      (e) => {
        server.log.error('unclean stop', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
