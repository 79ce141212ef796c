import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export { freePort } from './ports';

/**
 * A private Postfix instance for one test: its own configuration, queue and data directories in a
 * temporary folder, an smtpd on a loopback port of the test's choosing, and a transport map that
 * routes each test domain (to `error:5.1.1`, or to a port on 127.0.0.1). It touches neither the
 * machine's /etc/postfix nor port 25. Postfix itself comes from the Debian package (.ci/run
 * installs it); starting it needs root.
 */

const POSTFIX = '/usr/sbin/postfix';
const POSTCONF = '/usr/sbin/postconf';

export interface PostfixInstance {
  port: number;
  dir: string;
  /** The instance's mail log (maillog_file). */
  log(): string;
  stop(): Promise<void>;
}

/** Why Postfix cannot run here, or null when it can. */
export function postfixUnavailable(): string | null {
  if (!fs.existsSync(POSTFIX) || !fs.existsSync(POSTCONF))
    return 'Postfix is not installed (Debian package postfix; .ci/run installs it)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'starting Postfix needs root';
  if (spawnSync('id', ['-u', 'postfix']).status !== 0) return 'the postfix system user is missing';
  return null;
}

/** Starts the instance; `routes` maps a domain to a Postfix transport, e.g. `error:5.1.1 mailbox unavailable`. */
export async function startPostfix(opts: {
  port: number;
  routes: Record<string, string>;
}): Promise<PostfixInstance> {
  const why = postfixUnavailable();
  if (why) throw new Error(why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-postfix-'));
  // Postfix's daemons run as the postfix user: they must reach the folder and own the data directory.
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'queue'));
  fs.mkdirSync(path.join(dir, 'data'));
  execFileSync('chown', ['postfix', path.join(dir, 'data')]);
  const debianMain = '/usr/share/postfix/main.cf.debian';
  fs.writeFileSync(path.join(dir, 'main.cf'), fs.existsSync(debianMain) ? fs.readFileSync(debianMain) : '');
  fs.writeFileSync(
    path.join(dir, 'transport'),
    Object.entries(opts.routes)
      .map(([domain, transport]) => `${domain} ${transport}`)
      .join('\n') + '\n',
  );
  const log = path.join(dir, 'postfix.log');
  execFileSync(POSTCONF, [
    '-c',
    dir,
    '-e',
    `queue_directory = ${path.join(dir, 'queue')}`,
    `data_directory = ${path.join(dir, 'data')}`,
    'meta_directory = /etc/postfix',
    'compatibility_level = 3.6',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'mydestination =',
    'myhostname = relay.test',
    'myorigin = relay.test',
    'relayhost =',
    'alias_maps =',
    'alias_database =',
    `transport_maps = texthash:${path.join(dir, 'transport')}`,
    'mynetworks = 127.0.0.0/8',
    'smtp_dns_support_level = disabled',
    // Accept the dead recipient and bounce it with a DSN, instead of a 550 at RCPT time.
    'smtpd_reject_unlisted_recipient = no',
    'smtpd_tls_security_level = none',
    'smtp_tls_security_level = none',
    `maillog_file_prefixes = ${os.tmpdir()}`,
    `maillog_file = ${log}`,
  ]);
  const master = fs
    .readFileSync('/etc/postfix/master.cf', 'utf8')
    .replace(/^smtp(\s+)inet/m, '#smtp$1inet')
    .concat(`\n127.0.0.1:${opts.port} inet n - n - - smtpd\n`);
  fs.writeFileSync(path.join(dir, 'master.cf'), master);
  const started = spawnSync(POSTFIX, ['-c', dir, 'start'], { encoding: 'utf8' });
  if (started.status !== 0) {
    const detail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : started.stderr;
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`postfix did not start: ${detail}`);
  }
  await waitForPort(opts.port, 15_000);
  return {
    port: opts.port,
    dir,
    log: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''),
    async stop() {
      spawnSync(POSTFIX, ['-c', dir, 'stop'], { encoding: 'utf8' });
      // The master lingers a moment after `stop`: wait for its pid file to go before removing the folder.
      const pidFile = path.join(dir, 'queue', 'pid', 'master.pid');
      for (let i = 0; i < 50 && fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`postfix is not listening on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
