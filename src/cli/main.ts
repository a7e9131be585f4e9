/**
 * The `tocsin` command line (decisions.md "Running it"): `serve` (the default verb),
 * `check-config`, `move-store` (decisions.md "Many machines"), and client verbs `send`, `status`,
 * `wait` that talk to a running server.
 */
import { Command, Option } from 'commander';
import { isTocsinError } from '../common/errors.js';
import { VERSION } from '../version.js';
import { checkConfig } from './check-config.js';
import { moveStoreVerb } from './move-store.js';
import { serve } from './serve.js';
import { sendVerb, statusVerb, waitVerb } from './client-verbs.js';

const DEFAULT_SERVER = process.env['TOCSIN_SERVER'] ?? 'http://127.0.0.1:9000';

function program(): Command {
  const cli = new Command('tocsin').version(VERSION).description('Asynchronous actions with IDOL-style event handlers');
  const server = () => new Option('-s, --server <url>', 'ACI address of the server (env TOCSIN_SERVER)').default(DEFAULT_SERVER);

  cli
    .command('serve', { isDefault: true })
    .description('run the server')
    .option('-c, --config <file>', 'config file', 'config/tocsin.cfg')
    .option('-p, --port <port>', 'override [Server] Port', (v) => Number(v))
    .option('--pretty', 'human-readable log lines (pino-pretty) instead of JSON, for a terminal')
    .action(async (o: { config: string; port?: number; pretty?: boolean }) => serve(o.config, o.port, o.pretty === true));

  cli
    .command('check-config')
    .argument('[file]', 'config file')
    // Also as an option, the way `serve` takes it.
    .option('-c, --config <file>', 'config file (instead of the argument)')
    .description('validate a config file and print every problem with file:line (exit 1 on any error)')
    .action((file: string | undefined, options: { config?: string }, command: Command) => {
      const path = file ?? options.config;
      if (path === undefined) command.error("error: check-config needs the config file: tocsin check-config FILE (or --config FILE)");
      process.exitCode = checkConfig(path);
    });

  cli
    .command('move-store')
    .description('copy a single-node SQLite store into PostgreSQL (stop its server first); prints what it copied')
    .requiredOption('--from <db>', 'the SQLite database (DataDirectory/tocsin.db), or the data directory')
    .requiredOption('--to <url>', 'postgres://user:password@host:port/database (or leave the password to PGPASSWORD)')
    .option('--merge', 'copy into a target that already holds actions; actions whose token it holds are skipped')
    .option('--no-delivered', 'leave delivered events (EventInfo history) behind')
    .action(async (o: { from: string; to: string; merge?: boolean; delivered: boolean }) => moveStoreVerb(o));

  cli
    .command('send')
    .argument('<action>', 'action name, e.g. Sleep')
    .argument('[params...]', 'Param=Value pairs')
    .addOption(server())
    .description('send an action; prints the token of an asynchronous action')
    .action(async (action: string, params: string[], o: { server: string }) => sendVerb(o.server, action, params));

  cli
    .command('status')
    .argument('<token>')
    .addOption(server())
    .description('print the status record of an action')
    .action(async (token: string, o: { server: string }) => statusVerb(o.server, token));

  cli
    .command('wait')
    .argument('<token>')
    .addOption(server())
    .option('-t, --timeout <seconds>', 'give up after this long (exit 2)', (v) => Number(v))
    .description('wait until the action ends, showing progress; exit 0 when Finished, 1 otherwise')
    .action(async (token: string, o: { server: string; timeout?: number }) => waitVerb(o.server, token, o.timeout));
  return cli;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync(argv as string[]);
  } catch (e) {
    const code = isTocsinError(e) ? ` [${e.code}]` : '';
    process.stderr.write(`tocsin: ${(e as Error).message}${code}\n`);
    process.exitCode = 1;
  }
}
