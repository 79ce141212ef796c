import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { argValue, heapFlags, log, round } from './support/bench-env';

/**
 * `npm run bench`: runs every bench as its own process (tsx), one after the other, and writes
 * their JSON lines to bench/results.json with the machine they ran on. A bench that fails is
 * recorded as failed; the others still run, and the exit code is 1.
 *
 *   --only a,b   run only these (names below)      --skip a,b   run all but these
 *   --out FILE   write elsewhere than bench/results.json
 *   --merge      keep the results of benches not run now from the existing file (e.g. to redo one
 *                bench that a busy machine disturbed); each run records when it finished
 *
 * The million-member RSS run takes the longest (about 40 min on 2 cores); `--skip delivery-rss-1m`
 * for a quick pass.
 */

interface BenchSpec {
  name: string;
  script: string;
  args: string[];
}

const BENCHES: BenchSpec[] = [
  { name: 'render', script: 'render.ts', args: [] },
  { name: 'signup', script: 'signup.ts', args: [] },
  { name: 'delivery', script: 'delivery.ts', args: [] },
  { name: 'delivery-rss-100k', script: 'delivery-rss.ts', args: ['--members', '100000'] },
  { name: 'unsubscribe', script: 'unsubscribe.ts', args: [] },
  { name: 'clicks', script: 'clicks.ts', args: [] },
  { name: 'bounces', script: 'bounces.ts', args: [] },
  { name: 'webhooks', script: 'webhooks.ts', args: [] },
  { name: 'import', script: 'import.ts', args: [] },
  { name: 'delivery-rss-1m', script: 'delivery-rss.ts', args: ['--members', '1000000'] },
];

interface RunRecord {
  name: string;
  exitCode: number | null;
  seconds: number;
  lines: number;
  finishedAt: string;
}

interface ResultsFile {
  machine: Record<string, unknown>;
  results: Array<Record<string, unknown>>;
  runs: RunRecord[];
}

/** The heap flags the service runs with (the Dockerfile's, which `npm start` uses): benches measure the same runtime. */
const HEAP_FLAGS = heapFlags();

/** Which earlier result a new one replaces: the same bench on the same database and size. */
const resultKey = (r: Record<string, unknown>) => `${r.bench}|${r.db ?? ''}|${r.members ?? ''}`;

function runBench(spec: BenchSpec, results: Array<Record<string, unknown>>): Promise<RunRecord> {
  const start = performance.now();
  log(`${spec.name}: starting`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...HEAP_FLAGS, '--import', 'tsx', path.join(__dirname, spec.script), ...spec.args],
      {
        cwd: path.resolve(__dirname, '..'),
        env: process.env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let lines = 0;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (parsed && typeof parsed === 'object' && 'bench' in parsed) {
        results.push(parsed as Record<string, unknown>);
        lines++;
        process.stdout.write(line + '\n');
      } else {
        process.stderr.write(line + '\n');
      }
    });
    child.on('exit', (code) => {
      const seconds = round((performance.now() - start) / 1000, 1);
      log(`${spec.name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds} s`);
      resolve({ name: spec.name, exitCode: code, seconds, lines, finishedAt: new Date().toISOString() });
    });
  });
}

async function main(): Promise<void> {
  const list = (v: string) => new Set(v.split(',').filter(Boolean));
  const only = list(argValue('only', ''));
  const skip = list(argValue('skip', ''));
  for (const name of [...only, ...skip]) {
    if (!BENCHES.some((b) => b.name === name))
      throw new Error(`unknown bench ${name}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  }
  const selected = BENCHES.filter((b) => (only.size === 0 || only.has(b.name)) && !skip.has(b.name));
  const out = path.resolve(argValue('out', path.join(__dirname, 'results.json')));

  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
  const old =
    process.argv.includes('--merge') && fs.existsSync(out)
      ? (JSON.parse(fs.readFileSync(out, 'utf8')) as ResultsFile)
      : null;
  if (old && (old.machine.cpuModel !== machine.cpuModel || old.machine.cpus !== machine.cpus)) {
    throw new Error(`--merge: ${path.basename(out)} comes from another machine; run everything here instead`);
  }

  const results: Array<Record<string, unknown>> = [];
  let runs: RunRecord[] = [];
  for (const spec of selected) runs.push(await runBench(spec, results));
  const failed = runs.filter((r) => r.exitCode !== 0 || r.lines === 0);

  let file: ResultsFile = { machine, results, runs };
  if (old) {
    const fresh = new Set(results.map(resultKey));
    const rerun = new Set(runs.map((r) => r.name));
    runs = [...old.runs.filter((r) => !rerun.has(r.name)), ...runs];
    file = {
      machine: old.machine,
      results: [...old.results.filter((r) => !fresh.has(resultKey(r))), ...results],
      runs,
    };
  }
  fs.writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
  log(
    `wrote ${results.length} results to ${path.relative(process.cwd(), out)}${failed.length ? `; failed: ${failed.map((r) => r.name).join(', ')}` : ''}`,
  );
  process.exit(failed.length ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
