/** Jest: TypeScript through ts-jest (type-checking is `tsc --noEmit` in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The long crash/outage/fuzz runs have their own command: npm run test:reliability.
  testPathIgnorePatterns: ['/node_modules/', '/test/reliability/'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // Spawned CLI processes run the sources, not a possibly stale dist/.
  setupFiles: ['<rootDir>/test/support/from-source.ts'],
  testTimeout: 60000,
  // Integration suites share MariaDB and SMTP ports on 2 cores; keep the load sane.
  maxWorkers: 2,
};
