#!/usr/bin/env node
/**
 * The static checks of `npm test` (typecheck, lint, format:check, check:deps), two at a time on
 * the two cores instead of one after the other. Each one's output is printed when it ends; the
 * exit status is non-zero when any of them failed, and says which.
 */
import { spawn } from 'node:child_process';

const CHECKS = ['typecheck', 'lint', 'format:check', 'check:deps'];
const AT_ONCE = 2;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(npm, ['run', '-s', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => {
      const ok = code === 0;
      const text = Buffer.concat(out).toString().trimEnd();
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      if (text && !ok) console.log(text);
      resolve(ok ? null : `${name} (${signal ?? `exit ${code}`})`);
    });
  });
}

const queue = [...CHECKS];
const failed = [];
await Promise.all(
  Array.from({ length: AT_ONCE }, async () => {
    while (queue.length > 0) {
      const f = await run(queue.shift());
      if (f) failed.push(f);
    }
  }),
);
if (failed.length > 0) {
  console.error(`static checks failed: ${failed.join(', ')}`);
  process.exit(1);
}
