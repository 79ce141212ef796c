import type { Command } from 'commander';
import { AppError } from '../errors';
import { MIN_PASSWORD_LENGTH } from './passwords';
import { isStaffRole, STAFF_ROLES } from './roles';
import { StaffUsersService, checkPassword } from './staff-users.service';
import type { StaffServices } from './staff.module';

/** The CLI's "open the database, run, close": only the staff services are needed here. */
type WithDatabase = <T>(fn: (c: { staff: StaffServices }) => Promise<T>) => Promise<T>;

const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `kundeklubb users create|list|disable`: staff accounts for /admin. The password is typed at a
 * prompt without echo on a terminal, or read as the first line of stdin when piped (scripts, CI).
 */
export function addUserCommands(program: Command, withDatabase: WithDatabase): void {
  const users = program.command('users').description('staff accounts for the admin web UI at /admin');

  users
    .command('create')
    .requiredOption('--email <email>', 'the staff member’s e-mail address (their login)')
    .requiredOption('--role <role>', `one of ${STAFF_ROLES.join(', ')}`)
    .description(
      `create a staff user; asks for the password (at least ${MIN_PASSWORD_LENGTH} characters), or reads it from stdin`,
    )
    .action(async (opts: { email: string; role: string }) => {
      // Fail on a bad address or role before asking for a password.
      const email = StaffUsersService.normalizeEmail(opts.email);
      if (!isStaffRole(opts.role))
        throw new AppError(
          422,
          'validation',
          'Validation failed',
          `--role must be one of ${STAFF_ROLES.join(', ')}`,
        );
      const password = await readPassword();
      checkPassword(password);
      await withDatabase(async (c) => {
        const u = await c.staff.users.create(email, opts.role, password);
        out(`created ${u.email} (${u.role})`);
      });
    });

  users
    .command('list')
    .description('list staff users (never their passwords)')
    .action(() =>
      withDatabase(async (c) => {
        for (const u of await c.staff.users.list()) {
          out(
            `${u.email}\t${u.role}\t${u.createdAt.toISOString()}\t${u.disabledAt ? `disabled ${u.disabledAt.toISOString()}` : 'active'}`,
          );
        }
      }),
    );

  users
    .command('disable')
    .requiredOption('--email <email>', 'the staff user to disable')
    .description('disable a staff user and end their sessions at once')
    .action((opts: { email: string }) =>
      withDatabase(async (c) => {
        const u = await c.staff.users.disable(opts.email);
        out(`disabled ${u.email}`);
      }),
    );
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return firstLineOfStdin();
  const first = await promptHidden('Password: ');
  const again = await promptHidden('Repeat password: ');
  if (first !== again)
    throw new AppError(422, 'validation', 'Validation failed', 'the passwords do not match');
  return first;
}

function firstLineOfStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.search(/\r?\n/);
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const finish = (line: string) => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.off('error', reject);
      process.stdin.pause();
      resolve(line);
    };
    const onEnd = () => finish(buf);
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    process.stdin.once('error', reject);
    process.stdin.resume();
  });
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.off('data', onData);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new AppError(400, 'aborted', 'Aborted', 'aborted'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
