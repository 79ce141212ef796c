/** The reliability suite (`npm run test:reliability`): crash, outage, restart and fuzz runs on MariaDB. */
const base = require('./jest.config');
module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testPathIgnorePatterns: [],
  testTimeout: 300000,
  maxWorkers: 1,
};
