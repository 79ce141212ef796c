import fs from 'node:fs';
import path from 'node:path';

/** Figures the reliability suite measured, printed and kept in test/reliability/findings.json for the README. */
export function recordFinding(name: string, figures: Record<string, unknown>): void {
  const file = path.join(__dirname, 'findings.json');
  let all: Record<string, unknown>;
  try {
    all = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    all = {};
  }
  all[name] = { ...figures, measuredAt: new Date().toISOString() };
  fs.writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  console.log(`[reliability] ${name}: ${JSON.stringify(figures)}`);
}
