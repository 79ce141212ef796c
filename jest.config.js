/** Jest: TypeScript through ts-jest (type-checking is `tsc --noEmit` in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  // Integration suites share MariaDB and SMTP ports on 2 cores; keep the load sane.
  maxWorkers: 2,
};
