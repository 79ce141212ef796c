/**
 * The house drawn from imports (README «Code map», shared/STYLE.md): the toolkit imports no
 * room, and a room imports the toolkit and the rooms below it, never a room above it or the
 * app. `npm test` runs this (npm run check:deps) with madge's cycle check.
 */
const TOOLKIT =
  '^src/(errors|config|logger|templates|metrics|worker)\\.ts$|^src/(db|http|presentation|tokens|mail)/';
const APP = '^src/(app|openapi|container|main|cli|jobs)\\.ts$';

/** Rooms from the bottom up; a room may import only rooms earlier in this list. */
const ROOMS = [
  'mail-queue',
  'newsletter',
  'clients',
  // below members: members writes each change's event through EventLog.append in its own
  // transaction; the events room (feed, webhooks, dispatcher) needs nothing from the rooms above
  'events',
  'members',
  'delivery',
  // below campaigns, like delivery: campaigns keeps its counters; its routes ask campaigns through a port
  'clicks',
  'campaigns',
  'privacy',
  // above campaigns and privacy: a report's outcome calls members, the ledger, campaigns and erasure
  'bounces',
  // CSV import (CONTRACT §11): the members room's rules, the mail queue's kick; admin and the app above it
  'imports',
  'staff',
  'admin',
  // the next rooms (CONTRACT §9–§12) take their place here as they land
];

const roomPath = (room) => `^src/${room}/`;

const forbidden = [
  {
    name: 'no-cycles',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
  {
    name: 'toolkit-imports-no-room',
    comment:
      'errors, config, logger, db, http, presentation, tokens, mail: used by every room, so they import none',
    severity: 'error',
    from: { path: TOOLKIT },
    to: { path: `${ROOMS.map(roomPath).join('|')}|${APP}` },
  },
  {
    name: 'no-room-imports-the-app',
    severity: 'error',
    from: { path: ROOMS.map(roomPath).join('|') },
    to: { path: APP },
  },
  ...ROOMS.map((room, i) => ({
    name: `${room}-imports-no-room-above-it`,
    severity: 'error',
    from: { path: roomPath(room) },
    to: {
      path:
        ROOMS.filter((_r, j) => j > i)
          .map(roomPath)
          .join('|') || '^$',
    },
  })),
  {
    name: 'every-src-file-has-a-place',
    comment: 'a new top-level file or folder of src/ must be added to the toolkit, a room, or the app above',
    severity: 'error',
    from: { path: '^src/', pathNot: `${TOOLKIT}|${APP}|${ROOMS.map(roomPath).join('|')}` },
    to: {},
  },
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
