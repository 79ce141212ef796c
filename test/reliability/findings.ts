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

/** Figures the reliability suite measured, printed and kept in FINDINGS_FILE. */
export function recordFinding(name: string, figures: Record<string, unknown>): void {
  let all: Record<string, unknown>;
  try {
    all = JSON.parse(fs.readFileSync(FINDINGS_FILE, 'utf8'));
  } catch {
    all = {};
  }
  all[name] = { ...figures, measuredAt: new Date().toISOString() };
  fs.mkdirSync(path.dirname(FINDINGS_FILE), { recursive: true });
  fs.writeFileSync(FINDINGS_FILE, JSON.stringify(all, null, 2) + '\n');
  console.log(`[reliability] ${name}: ${JSON.stringify(figures)} → ${FINDINGS_FILE}`);
}
