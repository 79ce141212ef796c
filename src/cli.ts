import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config } from './config';
import { buildContainer, type Container } from './container';
import { migrate } from './db/data-source';
import { AppError } from './errors';
import { ClientsService } from './clients/clients.service';
import { start } from './main';
import { createLogger } from './logger';
import { addUserCommands } from './staff/users.cli';

/** The `kundeklubb` CLI (CONTRACT §7). Reads the same environment as the service. */

function config(): Config {
  return loadConfig(process.env);
}

/** Opens the database, brings the schema up to date, runs fn, closes. */
async function withDatabase<T>(fn: (c: Container) => Promise<T>): Promise<T> {
  const cfg = config();
  const c = buildContainer(cfg, {
    logger: createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr as never),
  });
  await c.dataSource.initialize();
  try {
    await migrate(c.dataSource);
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** Runs until SIGTERM/SIGINT, then shuts down gracefully. */
async function serve(role: 'api' | 'worker' | 'all' | undefined): Promise<void> {
  const cfg = config();
  const logger = createLogger(cfg.logLevel);
  // The last resort, not the fix: every job, timer and request handles its own errors (a database
  // outage included). A promise that still slips through is logged, and the service keeps serving.
  onUnhandledRejection = (err) =>
    logger.error({ err: String((err as Error)?.message ?? err) }, 'unhandled rejection; still running');
  const running = await start(cfg, role ?? cfg.role, { logger });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    running.container.logger.info({ signal: sig }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      (err) => {
        running.container.logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export function buildCli(): Command {
  const program = new Command('kundeklubb').description('Sothys Kundeklubb service').exitOverride();

  program
    .command('start')
    .description('migrate, then serve by ROLE (api, worker or all)')
    .action(() => serve(undefined));
  program
    .command('serve')
    .description('migrate, then serve the HTTP API only')
    .action(() => serve('api'));
  program
    .command('worker')
    .description('migrate, then run the delivery worker only')
    .action(() => serve('worker'));
  program
    .command('migrate')
    .description('bring the database schema up to date')
    .action(() =>
      withDatabase(async (c) => {
        const applied = await migrate(c.dataSource);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      }),
    );

  program
    .command('retention')
    .description('run the retention jobs once; prints the counts by task as one JSON line')
    .action(() =>
      withDatabase(async (c) => {
        console.log(JSON.stringify(await c.retention.run(c.clock())));
      }),
    );

  const clients = program.command('clients').description('API clients and their tokens');
  clients
    .command('create')
    .requiredOption('--name <name>', 'client name, e.g. osme-app')
    .requiredOption('--scopes <list>', 'comma list: members:write, members:read, campaigns, privacy, admin')
    .description('create a client; prints only its token')
    .action((opts: { name: string; scopes: string }) =>
      withDatabase(async (c) => {
        const token = await c.clients.create(opts.name, ClientsService.parseScopes(opts.scopes));
        console.log(token);
      }),
    );
  clients
    .command('list')
    .description('list clients (never their tokens)')
    .action(() =>
      withDatabase(async (c) => {
        for (const cl of await c.clients.list()) {
          console.log(
            `${cl.name}\t${cl.scopes.join(',')}\t${cl.createdAt.toISOString()}\t${cl.revokedAt ? 'revoked ' + cl.revokedAt.toISOString() : 'active'}`,
          );
        }
      }),
    );
  clients
    .command('revoke <name>')
    .description('revoke a client token at once')
    .action((name: string) =>
      withDatabase(async (c) => {
        if (!(await c.clients.revoke(name)))
          throw new AppError(404, 'not-found', 'Not found', `no active client "${name}"`);
        console.log(`revoked ${name}`);
      }),
    );

  addUserCommands(program, withDatabase);
  return program;
}

function fail(message: string): never {
  console.error(`kundeklubb: ${message}`);
  process.exit(1);
}

/** A one-shot command ends on an unhandled rejection; a running service logs it instead (serve). */
let onUnhandledRejection = (err: unknown): void => {
  if (err instanceof ConfigError) fail(err.message);
  if (err instanceof AppError) fail(err.message);
  fail(String((err as Error)?.message ?? err));
};
process.on('unhandledRejection', (err) => onUnhandledRejection(err));

buildCli()
  .parseAsync(process.argv)
  .catch((err) => {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof ConfigError || err instanceof AppError) fail(err.message);
    fail(String((err as Error)?.message ?? err));
  });
