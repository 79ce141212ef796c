import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the reliability suite writes what it measured: a temporary folder, so a run (CI's too)
 * leaves the tree clean; only `npm run test:reliability -- --record` (RELIABILITY_RECORD=1)
 * updates the committed test/reliability/findings.json that the README quotes.
 */
export const FINDINGS_FILE =
  process.env.RELIABILITY_RECORD === '1'
    ? path.join(__dirname, 'findings.json')
    : path.join(os.tmpdir(), 'kundeklubb-reliability', 'findings.json');

/**
 * Figures the reliability suite measured, printed and kept in FINDINGS_FILE. Suites run two at a
 * time (jest.reliability.config.js), so the file's read-modify-write holds a lock: a folder
 * beside it, made atomically (mkdir), taken over after LOCK_STALE_MS from a run that died in it.
 */
export function recordFinding(name: string, figures: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(FINDINGS_FILE), { recursive: true });
  withLock(`${FINDINGS_FILE}.lock`, () => {
    let all: Record<string, unknown>;
    try {
      all = JSON.parse(fs.readFileSync(FINDINGS_FILE, 'utf8'));
    } catch {
      all = {};
    }
    all[name] = { ...figures, measuredAt: new Date().toISOString() };
    const tmp = `${FINDINGS_FILE}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
    fs.renameSync(tmp, FINDINGS_FILE);
  });
  console.log(`[reliability] ${name}: ${JSON.stringify(figures)} → ${FINDINGS_FILE}`);
}

const LOCK_STALE_MS = 10_000;

function withLock(lock: string, fn: () => void): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS)
          fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        // Released meanwhile: try again.
      }
      Atomics.wait(sleeper, 0, 0, 20);
    }
  }
  try {
    fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
