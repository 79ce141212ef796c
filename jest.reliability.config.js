/** The reliability suite (`npm run test:reliability`): crash, outage, restart and fuzz runs on MariaDB. */
const base = require('./jest.config');
module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testPathIgnorePatterns: [],
  testTimeout: 300000,
  // Two suites at a time: they mostly wait (kills, outages, a private MariaDB's restarts) and each
  // has its own database; `--record` measures the figures one suite at a time
  // (scripts/test-reliability.mjs).
  maxWorkers: 2,
};
