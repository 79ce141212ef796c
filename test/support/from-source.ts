/**
 * Jest setup: every process a test spawns through bin/kundeklubb.js runs the TypeScript sources,
 * never a dist/ left over from an earlier build (which would silently replace the code under test).
 * The Docker image, which has only dist/, is checked by `npm run check:image`.
 */
process.env.KUNDEKLUBB_FROM_SOURCE = '1';
