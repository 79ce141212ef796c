#!/usr/bin/env node
/**
 * The Docker image, checked without an engine (issue #13, point 8). There is no Docker engine on
 * these machines, so this reads the Dockerfile and reproduces it in a temporary folder: each stage
 * gets its own root, the build stages' RUN steps run there (npm ci, npm run build, …), the last
 * stage receives ONLY what its COPY lines copy (from the context, minus .dockerignore, or from an
 * earlier stage), then its CMD is started with NODE_ENV=production and TOKEN_KEYS set. The check
 * passes when GET /readyz is 200, the HEALTHCHECK command succeeds, an API client made with the
 * image's CLI signs a member up (201) and the confirmation mail reaches the outbox.
 *
 *   npm run check:image                                     the Dockerfile of this repository
 *   node scripts/check-image.mjs --dockerfile PATH          another Dockerfile, same context
 *   node scripts/check-image.mjs --self-test                also drop each runtime COPY line in turn:
 *                                                           every such variant must fail the check
 *                                                           (a line copying only package*.json excepted)
 *   --context DIR                                           another build context (default: this repository)
 *   --keep                                                  keep the temporary folder
 *
 * The negative by hand (must print `image runtime check: FAILED` and exit 1):
 *   grep -v '^COPY templates' Dockerfile > /tmp/Dockerfile.no-templates
 *   node scripts/check-image.mjs --dockerfile /tmp/Dockerfile.no-templates
 *
 * What it cannot reproduce, and so skips with a note: the base image's system packages (apt-get,
 * apk …), users and ownership (useradd, chown, USER: everything runs as the current user on this
 * machine's Node.js). Absolute paths in ENV, RUN and CMD (/app, /data) are moved under the stage's
 * root, except the system's own (/usr, /bin, /lib …). Node.js dependencies, the compiled build,
 * the templates and the start command are what it does check.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values: opts } = parseArgs({
  options: {
    dockerfile: { type: 'string', default: path.join(repo, 'Dockerfile') },
    context: { type: 'string', default: repo },
    'self-test': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const context = path.resolve(opts.context);
const started = Date.now();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'check-image-'));
const children = new Set();

class CheckError extends Error {
  constructor(message, log) {
    super(message);
    this.log = log;
  }
}

const say = (line) => console.log(`check-image: ${line}`);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------- Dockerfile

/** Instructions with continuation lines joined and comment lines dropped, as Docker reads them. */
function readInstructions(text) {
  const out = [];
  let buf = '';
  let line = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    if (!buf) line = i + 1;
    if (/\\\s*$/.test(raw)) {
      buf += raw.replace(/\\\s*$/, ' ');
      return;
    }
    buf += raw;
    const m = buf.trim().match(/^(\S+)\s*([\s\S]*)$/);
    out.push({ line, op: m[1].toUpperCase(), args: m[2].trim(), text: buf.trim().replace(/\s+/g, ' ') });
    buf = '';
  });
  if (buf.trim()) throw new CheckError('Dockerfile ends inside a continuation line');
  return out;
}

function parseStages(instructions) {
  const stages = [];
  const globalArgs = {};
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = ins.args.match(/^(?:--platform=\S+\s+)?(\S+)(?:\s+as\s+(\S+))?$/i);
      if (!m) throw new CheckError(`line ${ins.line}: cannot read "${ins.text}"`);
      stages.push({ base: m[1], name: (m[2] ?? `stage-${stages.length}`).toLowerCase(), instructions: [] });
    } else if (!stages.length) {
      if (ins.op !== 'ARG') throw new CheckError(`line ${ins.line}: ${ins.op} before the first FROM`);
      for (const w of splitWords(ins.args)) {
        const [k, ...v] = w.split('=');
        globalArgs[k] = v.join('=');
      }
    } else {
      stages.at(-1).instructions.push(ins);
    }
  }
  if (!stages.length) throw new CheckError('the Dockerfile has no FROM');
  return { stages, globalArgs };
}

/** Shell-like words: quotes group and are removed, a backslash escapes the next character. */
function splitWords(s) {
  const out = [];
  let cur = null;
  let quote = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (/\s/.test(c)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else if (c === '\\' && i + 1 < s.length) {
      cur = (cur ?? '') + s[++i];
    } else {
      cur = (cur ?? '') + c;
    }
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt} from the stage's ENV and ARG values. */
function substitute(s, vars) {
  return s.replace(/\$\{(\w+)(?::([-+])([^}]*))?\}|\$(\w+)/g, (_, a, op, word, b) => {
    const v = vars[a ?? b];
    if (op === '-') return v ? v : word;
    if (op === '+') return v ? word : '';
    return v ?? '';
  });
}

/** Exec form (JSON array) or shell form (run by /bin/sh -c). */
function commandOf(args) {
  if (args.startsWith('[')) {
    try {
      return JSON.parse(args);
    } catch {
      // Docker, too, runs a malformed JSON array as a shell command.
    }
  }
  return ['/bin/sh', '-c', args];
}

// ---------------------------------------------------------------- paths

const SYSTEM_PATH = /^\/(usr|bin|sbin|lib|lib32|lib64|libx32|dev|proc|sys)(\/|$)/;

/** Moves absolute paths (after start, space, =, : or a quote) under root; the system's own stay. */
function underRoot(s, root) {
  return s.replace(/(^|[\s=:"'])(\/(?!\/)[^\s"';:&|()]*)/g, (m, pre, p) =>
    SYSTEM_PATH.test(p) ? m : pre + path.join(root, p),
  );
}

function globRegex(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** .dockerignore, roughly as Docker reads it: a pattern excludes a path or any folder above it; `!` re-includes. */
function dockerignore(dir) {
  const file = path.join(dir, '.dockerignore');
  if (!fs.existsSync(file)) return () => false;
  const rules = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = path.posix.normalize(negate ? l.slice(1).trim() : l).replace(/^\/+|\/+$/g, '');
      return { negate, re: globRegex(p) };
    });
  return (rel) => {
    const prefixes = rel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

/** Copies a context folder's contents, leaving out what .dockerignore excludes. */
function copyFromContext(src, dest, rel, ignored) {
  fs.mkdirSync(dest, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (ignored(r)) continue;
    const s = path.join(src, e.name);
    const d = path.join(dest, e.name);
    if (e.isDirectory()) copyFromContext(s, d, r, ignored);
    else if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(s), d);
    else fs.copyFileSync(s, d);
  }
}

/** A folder's contents into dest, merging, links kept; `cp -a` is about five times faster on node_modules. */
function copyTree(src, dest) {
  fs.mkdirSync(dest, { recursive: true });
  if (spawnSync('cp', ['-a', `${src}/.`, `${dest}/`]).status !== 0)
    fs.cpSync(src, dest, { recursive: true, verbatimSymlinks: true, force: true });
}

function removeTree(dir) {
  if (spawnSync('rm', ['-rf', dir]).status !== 0) fs.rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- stages

const SKIPPED_COMMAND =
  /^(apt-get|apt|apk|yum|dnf|microdnf|chown|chgrp|useradd|adduser|groupadd|addgroup|usermod)\b/;

const PASSED_ENV = ['TMPDIR', 'LANG', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy'];

/** The environment of a RUN step or of the service: a fresh one, like a container's, not this process's. */
function baseEnv(home) {
  const env = {
    PATH: [
      path.dirname(process.execPath),
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ].join(':'),
    HOME: home,
    // The real npm cache, so `npm ci` installs from it instead of the network.
    npm_config_cache: path.join(os.homedir(), '.npm'),
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  for (const k of PASSED_ENV) if (process.env[k]) env[k] = process.env[k];
  return env;
}

function stageEnv(stage) {
  const env = {};
  for (const [k, v] of Object.entries(stage.env)) env[k] = underRoot(v, stage.root);
  return env;
}

async function runStep(stage, ins, logFile) {
  let cmd = commandOf(ins.args);
  const notes = [];
  if (cmd[0] === '/bin/sh') {
    const parts = cmd[2].split(/\s*&&\s*/);
    const kept = parts.filter((p) => !SKIPPED_COMMAND.test(p.trim()));
    const skipped = parts
      .filter((p) => !kept.includes(p))
      .map((p) => p.trim().split(/\s+/).slice(0, 2).join(' '));
    if (skipped.length) notes.push(`skipped: ${skipped.join(', ')}`);
    if (!kept.length) return say(`${stage.name}: RUN ${ins.args.slice(0, 60)}… (skipped: system step)`);
    cmd = ['/bin/sh', '-c', underRoot(kept.join(' && '), stage.root)];
  } else {
    cmd = cmd.map((a) => underRoot(a, stage.root));
  }
  const t = Date.now();
  fs.appendFileSync(logFile, `\n$ ${cmd.join(' ')}\n`);
  const fd = fs.openSync(logFile, 'a');
  // Asynchronous and in its own process group, so Ctrl-C or a CI timeout stops npm with this script.
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: path.join(stage.root, stage.workdir),
    env: { ...baseEnv(os.homedir()), ...stage.args, ...stageEnv(stage) },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  children.add(child);
  const status = await new Promise((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(code ?? signal));
  });
  children.delete(child);
  const shown = ins.args.length > 70 ? `${ins.args.slice(0, 70)}…` : ins.args;
  if (status !== 0)
    throw new CheckError(`${stage.name}: line ${ins.line}: RUN ${shown} exited ${status}`, logFile);
  say(`${stage.name}: RUN ${shown} (${seconds(t)}${notes.length ? `; ${notes.join(', ')}` : ''})`);
}

function copyStep(stage, ins, stages, ignored) {
  const raw = ins.args.startsWith('[')
    ? JSON.parse(ins.args)
    : splitWords(substitute(ins.args, stage.vars()));
  const flags = {};
  while (raw[0]?.startsWith('--')) {
    const [k, ...v] = raw.shift().slice(2).split('=');
    flags[k] = v.join('=') || true;
  }
  const dest = raw.pop();
  if (!raw.length) throw new CheckError(`line ${ins.line}: ${ins.op} without a source`);
  let fromRoot = null;
  if (flags.from) {
    const from = stages.find((s, i) => s.name === flags.from.toLowerCase() || String(i) === flags.from);
    if (!from?.root)
      throw new CheckError(
        `line ${ins.line}: --from=${flags.from} is not an earlier stage (an image cannot be fetched here)`,
      );
    fromRoot = from.root;
  }
  const sources = raw.flatMap((src) => {
    if (/^[a-z]+:\/\//i.test(src))
      throw new CheckError(`line ${ins.line}: ${src}: URLs cannot be fetched here`);
    const rel = fromRoot
      ? path.posix.resolve('/', src).slice(1)
      : path.posix
          .normalize(src)
          .replace(/^(\.\/|\/)+/, '')
          .replace(/\/+$/, '');
    if (!fromRoot && (rel === '..' || rel.startsWith('../')))
      throw new CheckError(`line ${ins.line}: ${src} is outside the context`);
    const base = fromRoot ?? context;
    const dir = path.posix.dirname(rel);
    const name = path.posix.basename(rel);
    const names = /[*?]/.test(name)
      ? fs.existsSync(path.join(base, dir))
        ? fs.readdirSync(path.join(base, dir)).filter((n) => globRegex(name).test(n))
        : []
      : [name];
    const found = names
      .map((n) => (dir === '.' ? n : `${dir}/${n}`))
      .filter(
        (r) => (r === '.' || r === '' || fs.existsSync(path.join(base, r))) && (fromRoot || !ignored(r)),
      );
    if (!found.length)
      throw new CheckError(
        `line ${ins.line}: ${ins.op} ${src}: not found${fromRoot ? ` in stage ${flags.from}` : ' in the context (or excluded by .dockerignore)'}`,
      );
    return found.map((r) => ({ rel: r === '.' ? '' : r, host: path.join(base, r) }));
  });
  const destAbs = path.posix.resolve(stage.workdir, dest);
  const destHost = path.join(stage.root, destAbs);
  const intoDir = dest.endsWith('/') || dest === '.' || sources.length > 1;
  for (const s of sources) {
    const isDir = fs.statSync(s.host).isDirectory();
    if (isDir && fromRoot) copyTree(s.host, destHost);
    else if (isDir) copyFromContext(s.host, destHost, s.rel, ignored);
    else {
      const target =
        intoDir || (fs.existsSync(destHost) && fs.statSync(destHost).isDirectory())
          ? path.join(destHost, path.basename(s.host))
          : destHost;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(s.host, target);
    }
  }
}

/** Builds one stage in tmp/<dir>; returns it with its root, workdir, env, command and health check. */
async function buildStage(stage, stages, globalArgs, dir, ignored) {
  const s = {
    ...stage,
    root: path.join(tmp, dir),
    workdir: '/',
    env: {},
    args: { ...globalArgs },
    cmd: null,
    entrypoint: null,
    healthcheck: null,
    notes: [],
    vars() {
      return { ...this.args, ...this.env };
    },
  };
  const parent = stages.find((p) => p.root && p.name === stage.base.toLowerCase());
  if (parent) {
    copyTree(parent.root, s.root);
    Object.assign(s, {
      workdir: parent.workdir,
      env: { ...parent.env },
      cmd: parent.cmd,
      entrypoint: parent.entrypoint,
    });
  }
  fs.mkdirSync(s.root, { recursive: true });
  const logFile = path.join(tmp, `${dir}.log`);
  fs.writeFileSync(logFile, '');
  for (const ins of stage.instructions) {
    switch (ins.op) {
      case 'WORKDIR':
        s.workdir = path.posix.resolve(s.workdir, substitute(ins.args, s.vars()));
        fs.mkdirSync(path.join(s.root, s.workdir), { recursive: true });
        break;
      case 'ENV': {
        const words = splitWords(ins.args);
        if (words[0]?.includes('=')) {
          const before = s.vars();
          for (const w of words) {
            const i = w.indexOf('=');
            s.env[w.slice(0, i)] = substitute(w.slice(i + 1), before);
          }
        } else {
          s.env[words[0]] = substitute(
            ins.args.slice(ins.args.indexOf(words[0]) + words[0].length).trim(),
            s.vars(),
          );
        }
        break;
      }
      case 'ARG':
        for (const w of splitWords(ins.args)) {
          const [k, ...v] = w.split('=');
          s.args[k] = v.length ? substitute(v.join('='), s.vars()) : (globalArgs[k] ?? '');
        }
        break;
      case 'COPY':
      case 'ADD':
        copyStep(s, ins, stages, ignored);
        break;
      case 'RUN':
        await runStep(s, ins, logFile);
        break;
      case 'CMD':
        s.cmd = commandOf(ins.args);
        break;
      case 'ENTRYPOINT':
        s.entrypoint = commandOf(ins.args);
        break;
      case 'HEALTHCHECK': {
        const m = ins.args.match(/^((?:--\S+\s+)*)CMD\s+([\s\S]+)$/i);
        s.healthcheck = m ? (m[2].startsWith('[') ? JSON.parse(m[2]) : ['/bin/sh', '-c', m[2]]) : null;
        break;
      }
      case 'VOLUME':
        for (const v of ins.args.startsWith('[') ? JSON.parse(ins.args) : splitWords(ins.args))
          fs.mkdirSync(path.join(s.root, substitute(v, s.vars())), { recursive: true });
        break;
      case 'USER':
        s.notes.push(`USER ${ins.args} not reproduced (runs as the current user)`);
        break;
      case 'EXPOSE':
      case 'LABEL':
      case 'STOPSIGNAL':
      case 'SHELL':
      case 'MAINTAINER':
      case 'ONBUILD':
        break;
      default:
        throw new CheckError(`line ${ins.line}: ${ins.op} is not understood by this check`);
    }
  }
  return Object.assign(stage, s);
}

// ---------------------------------------------------------------- the running image

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function untilDeadline(ms, fn) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function checkRuntime(stage) {
  const dir = path.join(tmp, `run-${path.basename(stage.root)}`);
  fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
  const logFile = path.join(dir, 'service.log');
  const port = await freePort();
  const env = {
    ...baseEnv(path.join(dir, 'home')),
    ...stageEnv(stage),
    // As `docker run -e …` would set them; these win over the Dockerfile's ENV.
    NODE_ENV: 'production',
    TOKEN_KEYS: `k1:${crypto.randomBytes(30).toString('base64url')}`,
    PORT: String(port),
    DATABASE_URL: `sqlite:${dir}/kk.sqlite`,
    SMTP_URL: `file:${dir}/outbox`,
  };
  for (const k of Object.keys(env)) if (k.startsWith('npm_config_')) delete env[k];
  const cwd = path.join(stage.root, stage.workdir);
  const command = [...(stage.entrypoint ?? []), ...(stage.cmd ?? [])].map((a) => underRoot(a, stage.root));
  if (!command.length) throw new CheckError('the last stage has neither CMD nor ENTRYPOINT');

  const out = fs.openSync(logFile, 'a');
  const child = spawn(command[0], command.slice(1), {
    cwd,
    env,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  children.add(child);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = code ?? signal;
    children.delete(child);
  });
  child.on('error', (err) => {
    exited = err.message;
    children.delete(child);
  });
  const shown = (stage.cmd ?? []).join(' ');
  try {
    const t = Date.now();
    const ready = await untilDeadline(60_000, async () => {
      if (exited !== null)
        throw new CheckError(`\`${shown}\` exited (${exited}) before /readyz answered`, logFile);
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        return false;
      }
    });
    if (!ready) throw new CheckError(`GET /readyz was not 200 within 60 s of \`${shown}\``, logFile);
    say(`runtime: \`${shown}\` on port ${port}, GET /readyz 200 after ${seconds(t)}`);

    if (stage.healthcheck) {
      const hc = spawnSync(stage.healthcheck[0], stage.healthcheck.slice(1), { cwd, env, timeout: 10_000 });
      if (hc.status !== 0)
        throw new CheckError(
          `the HEALTHCHECK command exited ${hc.status ?? hc.signal}: ${hc.stderr}`,
          logFile,
        );
    }

    // The image's CLI as `docker exec <container> node bin/kundeklubb.js …` runs it: the program and
    // script of the CMD, in the WORKDIR, with the container's environment.
    const cli = command.slice(0, command.findIndex((a) => a.endsWith('.js')) + 1);
    if (cli.length < 2) throw new CheckError(`cannot find the CLI script in the CMD \`${shown}\``);
    const made = spawnSync(
      cli[0],
      [...cli.slice(1), 'clients', 'create', '--name', 'image-check', '--scopes', 'members:write'],
      {
        cwd,
        env,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const token = made.stdout?.trim().split('\n').at(-1);
    if (made.status !== 0 || !token)
      throw new CheckError(
        `\`${cli.join(' ')} clients create\` exited ${made.status}: ${(made.stderr || String(made.error ?? '')).trim()}`,
        logFile,
      );

    const res = await fetch(`http://127.0.0.1:${port}/v1/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'image-check@example.no',
        source: 'web',
        consent: { textVersion: 'kundeklubb-2024-05' },
      }),
    });
    if (res.status !== 201)
      throw new CheckError(
        `POST /v1/members answered ${res.status}, not 201: ${(await res.text()).slice(0, 300)}`,
        logFile,
      );

    // The confirmation mail is rendered from templates/mail by the worker half of the process.
    const outbox = path.join(dir, 'outbox');
    const mailed = await untilDeadline(
      20_000,
      () => fs.existsSync(outbox) && fs.readdirSync(outbox).some((f) => f.endsWith('.eml')),
    );
    if (!mailed)
      throw new CheckError('no confirmation mail in the outbox within 20 s of the sign-up', logFile);
    const health = stage.healthcheck ? 'HEALTHCHECK ok' : 'no HEALTHCHECK';
    say(`runtime: ${health}, \`clients create\` ok, POST /v1/members 201, confirmation mail written`);
  } finally {
    await stop(child);
  }
}

async function stop(child) {
  if (!children.has(child)) return;
  const gone = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => children.has(child) && process.kill(-child.pid, 'SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

// ---------------------------------------------------------------- main

function tail(file, lines = 30) {
  if (!file || !fs.existsSync(file)) return '';
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Build stages once; then the runtime stage per variant (the Dockerfile, or one COPY line left out). */
async function main() {
  for (let d = path.dirname(tmp); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'node_modules')))
      say(`warning: ${d}/node_modules is visible from the temporary folder and may hide a missing module`);
    if (d === path.dirname(d)) break;
  }
  const dockerfile = path.resolve(opts.dockerfile);
  const { stages, globalArgs } = parseStages(readInstructions(fs.readFileSync(dockerfile, 'utf8')));
  const ignored = dockerignore(context);
  const names = stages.map((s) => s.name).join(', ');
  say(`${dockerfile}: stages ${names} (the last is the runtime); temporary folder ${tmp}`);

  const builds = stages.slice(0, -1);
  for (const [i, st] of builds.entries())
    await buildStage(st, stages, globalArgs, `stage-${i}-${st.name}`, ignored);
  const runtime = stages.at(-1);

  // --self-test: each runtime COPY line left out in turn must fail the check. The one allowance is a
  // line copying only package*.json: metadata a CommonJS service without "type" never needs to run.
  const variants = [{ label: 'as written', instructions: runtime.instructions, expect: 'pass' }];
  if (opts['self-test']) {
    for (const ins of runtime.instructions.filter((x) => x.op === 'COPY' || x.op === 'ADD'))
      variants.push({
        label: `without line ${ins.line} \`${ins.text}\``,
        instructions: runtime.instructions.filter((x) => x !== ins),
        expect: /^(ADD|COPY)(\s+--\S+)*(\s+package[-\w*]*\.json)+\s+\S+$/i.test(ins.text) ? 'either' : 'fail',
      });
  }
  const wrong = [];
  for (const [i, v] of variants.entries()) {
    if (variants.length > 1) say(`--- runtime stage ${v.label}`);
    const st = { ...runtime, name: 'runtime', instructions: v.instructions, root: null };
    const t = Date.now();
    try {
      const built = await buildStage(st, [...builds, st], globalArgs, `runtime-${i}`, ignored);
      for (const n of built.notes) say(`runtime: ${n}`);
      await checkRuntime(built);
      if (v.expect === 'pass') say(`runtime check passed (${seconds(t)} for the runtime stage)`);
      else if (v.expect === 'either') say('still passes: package metadata only, allowed');
      else wrong.push(v.label);
    } catch (err) {
      if (!(err instanceof CheckError) || v.expect === 'pass') throw err;
      const lines = tail(err.log, 40).split('\n');
      const why = lines.findLast((l) => /error|cannot|enoent|not found/i.test(l)) ?? lines.at(-1);
      say(`fails as it must: ${err.message}${why ? ` — ${why.trim().slice(0, 200)}` : ''}`);
    } finally {
      if (!opts.keep && st.root) removeTree(st.root);
    }
  }
  if (wrong.length) throw new CheckError(`self-test: the check still passes ${wrong.join('; ')}`);
  if (opts['self-test']) say(`self-test: the check fails without each runtime COPY line it should miss`);
  say(`total ${seconds(started)}`);
  console.log('image runtime check: ok');
}

function cleanup() {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (opts.keep) console.error(`check-image: kept ${tmp}`);
  else removeTree(tmp);
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

main().catch((err) => {
  const log = tail(err.log);
  console.error(`image runtime check: FAILED: ${err.message}`);
  if (log) console.error(`--- last lines of ${path.basename(err.log)}:\n${log}`);
  if (!(err instanceof CheckError)) console.error(err.stack);
  process.exitCode = 1;
});
