#!/usr/bin/env node
// The `kundeklubb` CLI and `npm start`. Runs the compiled build when present (Docker image),
// otherwise the TypeScript sources through tsx, so a fresh clone needs no build step.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'cli.js');
if (fs.existsSync(compiled) && !process.env.KUNDEKLUBB_FROM_SOURCE) {
  require(compiled);
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli.ts'));
}
