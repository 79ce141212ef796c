#!/usr/bin/env node
/**
 * `npm run test:reliability [-- --record] [jest options]`: the reliability suite on MariaDB.
 * Findings go to a temporary folder; `--record` writes them to test/reliability/findings.json
 * (the figures the README quotes, measured one suite at a time), so an ordinary run, CI's
 * included, leaves the tree clean. An ordinary run takes two suites at a time.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const record = args.includes('--record');
const env = {
  ...process.env,
  TEST_MYSQL_URL: process.env.TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test',
  ...(record ? { RELIABILITY_RECORD: '1' } : {}),
};
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(
  process.execPath,
  [
    jest,
    '-c',
    'jest.reliability.config.js',
    // The recorded figures are measured one suite at a time, on an otherwise quiet machine.
    ...(record ? ['--maxWorkers=1'] : []),
    ...args.filter((a) => a !== '--record'),
  ],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
