// The unit tests alone, as one jest config, for Stryker (npm run test:mutation): it runs them
// against each mutant of the security modules, and needs no servers.
const unit = require('./jest.config.js').projects.find((p) => p.displayName === 'unit');

/** @type {import('jest').Config} */
module.exports = { ...unit, rootDir: __dirname, testTimeout: 120_000 };
