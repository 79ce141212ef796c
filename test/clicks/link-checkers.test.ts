import { isbot } from 'isbot';
import { isCountableClick } from '../../src/clicks/link-checkers';
import { TestLinks } from '../../src/clicks/test-links';

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36',
];

/**
 * The link checkers of the mail security gateways that fetch every link of a mail, as their user
 * agents were reported: Barracuda's «Barracuda Sentinel (EE)» and its link protection naming
 * Barracuda; Proofpoint URL Defense and Mimecast URL Protect naming themselves; Microsoft Defender
 * Safe Links with Office's «ms-office»/«MSOffice» agent; Outlook's own fetch.
 */
const LINK_CHECKERS: Array<[string, string]> = [
  ['Barracuda Sentinel', 'Barracuda Sentinel (EE)'],
  ['Barracuda link protection', 'Mozilla/5.0 (compatible; Barracuda Link Protection)'],
  [
    'Barracuda (browser-shaped)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Barracuda',
  ],
  [
    'Proofpoint URL Defense',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Proofpoint',
  ],
  ['Proofpoint (bare)', 'proofpoint'],
  ['Mimecast URL Protect', 'Mozilla/5.0 (compatible; Mimecast URL Protect)'],
  [
    'Mimecast (browser-shaped)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Mimecast',
  ],
  ['Mimecast (bare)', 'Mimecast'],
  ['Microsoft Defender Safe Links (Office agent)', 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)'],
  ['Microsoft Safe Links', 'Microsoft-SafeLinks/1.0'],
  ['Microsoft Outlook', 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)'],
  ['Outlook for Mac', 'Microsoft Outlook/16.89 (Macintosh; Mac OS X 14.6)'],
];

const BOTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  'python-requests/2.32.3',
  'curl/8.5.0',
  'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
];

const get = (agent?: string, extra: Record<string, string> = {}) => ({
  method: 'GET',
  headers: { ...(agent === undefined ? {} : { 'user-agent': agent }), ...extra },
});

describe('isCountableClick', () => {
  it.each(BROWSERS)('counts a person’s browser: %s', (agent) => {
    expect(isCountableClick(get(agent))).toBe(true);
  });

  it.each(LINK_CHECKERS)('does not count the %s link checker', (_name, agent) => {
    expect(isCountableClick(get(agent))).toBe(false);
  });

  it('needs the added patterns: isbot alone lets some of these through', () => {
    // When isbot knows them all, LINK_CHECKER_PATTERNS can go.
    const missedByIsbot = LINK_CHECKERS.filter(([, agent]) => !isbot(agent)).map(([name]) => name);
    expect(missedByIsbot.length).toBeGreaterThan(0);
  });

  it.each(BOTS)('does not count a known bot: %s', (agent) => {
    expect(isCountableClick(get(agent))).toBe(false);
  });

  it('does not count a request without a user agent (Safe Links often sends none)', () => {
    expect(isCountableClick(get())).toBe(false);
    expect(isCountableClick(get('  '))).toBe(false);
  });

  it('does not count HEAD, nor a browser’s speculative prefetch', () => {
    expect(isCountableClick({ ...get(BROWSERS[0]), method: 'HEAD' })).toBe(false);
    expect(isCountableClick(get(BROWSERS[0], { 'sec-purpose': 'prefetch' }))).toBe(false);
    expect(isCountableClick(get(BROWSERS[0], { purpose: 'prefetch' }))).toBe(false);
  });
});

describe('TestLinks', () => {
  const keys = [
    { kid: 'k2', secret: 'new-secret-0123456789abcdef0123456789' },
    { kid: 'k1', secret: 'old-secret-0123456789abcdef0123456789' },
  ];
  const links = new TestLinks(keys);

  it('gives each campaign its own marker, the same for every test address, and knows it again', () => {
    const m = links.marker(7);
    expect(m).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(links.marker(7)).toBe(m);
    expect(links.marker(8)).not.toBe(m);
    expect(links.isTest(7, m)).toBe(true);
    expect(links.isTest(8, m)).toBe(false);
  });

  it('refuses a marker it did not make, and accepts one made with an older key', () => {
    expect(links.isTest(7, 'A'.repeat(22))).toBe(false);
    expect(links.isTest(7, undefined)).toBe(false);
    expect(links.isTest(7, ['x'])).toBe(false);
    expect(links.isTest(7, links.marker(7).slice(1))).toBe(false);
    const old = new TestLinks([keys[1]]).marker(7);
    expect(links.isTest(7, old)).toBe(true);
    expect(new TestLinks([keys[1]]).isTest(7, links.marker(7))).toBe(false);
  });
});
