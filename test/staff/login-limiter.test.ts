import request from 'supertest';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from '../../src/staff/login-limiter';
import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { hiddenCsrf, loginForm, PASSWORD, setCookie, staffUser } from '../admin/helpers';

/** Security issue #12, findings 3 (parallel logins get past the limiter) and 4 (anyone can lock every staff member out). */

const LIMIT = DEFAULT_LOGIN_LIMITS.perAccount;
const WINDOW_MS = DEFAULT_LOGIN_LIMITS.windowMs;

/** `n` login POSTs fired at once from one login form, as a script would; the HTTP statuses in order. */
async function concurrentLogins(t: TestApp, attempts: Array<{ email: string; password: string }>) {
  const page = await request(t.app).get('/admin/login');
  const cookie = `kk_login=${setCookie(page, 'kk_login')!.value}`;
  const csrf = hiddenCsrf(page.text);
  const answers = await Promise.all(
    attempts.map(({ email, password }) =>
      request(t.app)
        .post('/admin/login')
        .set('Cookie', cookie)
        .type('form')
        .send({ _csrf: csrf, email, password, next: '/admin' }),
    ),
  );
  return answers.map((r) => r.status);
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;
const wrong = (email: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ email, password: `feil-passord-${i}-xxxxxx` }));

describe.each(databaseKinds())('staff login limiter on %s', (kind) => {
  let t: TestApp;
  let offsetMs = 0;

  beforeAll(async () => {
    t = await startTestApp(kind, { clock: () => new Date(Date.now() + offsetMs) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finding 3: of 20 parallel wrong passwords for one account at most 5 are checked; the right one is then refused until the window ends', async () => {
    const email = await staffUser(t, 'admin');
    const statuses = await concurrentLogins(t, wrong(email, 20));
    expect({ checked: count(statuses, 401), limited: count(statuses, 429) }).toEqual({
      checked: LIMIT,
      limited: 20 - LIMIT,
    });

    const locked = (await loginForm(t, email, PASSWORD)).res;
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.text).toContain('For mange mislykkede forsøk');
    expect(setCookie(locked, 'kk_staff')).toBeNull();

    offsetMs += WINDOW_MS + 1000;
    expect((await loginForm(t, email)).res.status).toBe(303);
  });

  it('a correct login clears the account’s reserved attempts: it gets the full 5 again', async () => {
    const email = await staffUser(t, 'marketing');
    for (let i = 0; i < LIMIT - 1; i++)
      expect((await loginForm(t, email, `feil-passord-${i}-xxxxxx`)).res.status).toBe(401);
    const ok = (await loginForm(t, email)).res;
    expect(ok.status).toBe(303);
    expect(setCookie(ok, 'kk_staff')).not.toBeNull();

    // Exactly 5 more checked: the 4 earlier failures and the login's own reservation are gone,
    // and parallel guesses still stop at the limit.
    const statuses = await concurrentLogins(t, wrong(email, 8));
    expect({ checked: count(statuses, 401), limited: count(statuses, 429) }).toEqual({
      checked: LIMIT,
      limited: 8 - LIMIT,
    });
    expect((await loginForm(t, email)).res.status).toBe(429);
  });
});

describe.each(databaseKinds())('staff login under a spray of made-up addresses on %s', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finding 4: 105 failed logins with made-up addresses do not lock out a staff member with the right password; the wait is bounded', async () => {
    const email = await staffUser(t, 'privacy');
    const sprayed: number[] = [];
    for (let batch = 0; batch < 7; batch++) {
      const attempts = Array.from({ length: 15 }, (_, i) => ({
        email: `oppdiktet.${batch}.${i}@example.no`,
        password: PASSWORD,
      }));
      sprayed.push(...(await concurrentLogins(t, attempts)));
    }

    const started = performance.now();
    const { res } = await loginForm(t, email);
    const elapsedMs = performance.now() - started;
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin');
    const cookie = setCookie(res, 'kk_staff');
    expect(cookie).not.toBeNull();
    expect(elapsedMs).toBeLessThan(5000);
    const home = await request(t.app).get('/admin').set('Cookie', `kk_staff=${cookie!.value}`);
    expect(home.status).toBe(200);
    expect(home.text).toContain(email);

    // The made-up addresses were each refused as wrong (401), never locked out as a group (429).
    expect(count(sprayed, 401)).toBe(105);
  });
});

describe('LoginLimiter', () => {
  const limits: LoginLimits = { ...DEFAULT_LOGIN_LIMITS, perAccount: 3, global: 10 };
  let now = 0;
  const clock = () => new Date(now);
  beforeEach(() => {
    now = Date.UTC(2026, 0, 1);
  });

  it('reserves attempts in the same step as the check: the 4th of 3 is refused before any result is known', () => {
    const l = new LoginLimiter(clock, limits);
    const outcomes = [1, 2, 3, 4, 5].map(() => l.reserve('Kari@Cosmenor.no').kind);
    expect(outcomes).toEqual(['allowed', 'allowed', 'allowed', 'limited', 'limited']);
    expect(l.reserve(' kari@cosmenor.no ')).toEqual({
      kind: 'limited',
      retryAfterSeconds: limits.windowMs / 1000,
    });
    expect(l.reserve('ola@cosmenor.no').kind).toBe('allowed');
  });

  it('a success clears the account; a release gives back one attempt; the window’s end gives back all', () => {
    const l = new LoginLimiter(clock, limits);
    l.reserve('kari@cosmenor.no');
    l.reserve('kari@cosmenor.no');
    l.recordSuccess('kari@cosmenor.no');
    expect([1, 2, 3, 4].map(() => l.reserve('kari@cosmenor.no').kind)).toEqual([
      'allowed',
      'allowed',
      'allowed',
      'limited',
    ]);
    l.release('kari@cosmenor.no');
    expect(l.reserve('kari@cosmenor.no').kind).toBe('allowed');
    expect(l.reserve('kari@cosmenor.no').kind).toBe('limited');
    now += limits.windowMs;
    expect(l.reserve('kari@cosmenor.no').kind).toBe('allowed');
  });

  it('above the global brake it slows every login down, within a bound, and refuses none', () => {
    const l = new LoginLimiter(clock, limits);
    const answers = Array.from({ length: 10_000 }, (_, i) => l.reserve(`oppdiktet.${i}@example.no`));
    expect(answers.filter((r) => r.kind !== 'allowed')).toEqual([]);
    const delays = answers.map((r) => (r.kind === 'allowed' ? r.delayMs : NaN));
    expect(delays.slice(0, limits.global).every((d) => d === 0)).toBe(true);
    expect(delays[limits.global]).toBeGreaterThanOrEqual(limits.globalDelayMs);
    expect(Math.max(...delays)).toBe(limits.maxGlobalDelayMs);
    const real = l.reserve('kari@cosmenor.no');
    expect(real).toEqual({ kind: 'allowed', delayMs: limits.maxGlobalDelayMs });
    now += limits.windowMs;
    expect(l.reserve('kari@cosmenor.no')).toEqual({ kind: 'allowed', delayMs: 0 });
  });

  it('keeps at most maxAccounts addresses, forgetting sprayed single failures before a targeted account', () => {
    const l = new LoginLimiter(clock, { ...limits, maxAccounts: 1000 });
    l.reserve('kari@cosmenor.no');
    l.reserve('kari@cosmenor.no');
    for (let i = 0; i < 50_000; i++) l.reserve(`oppdiktet.${i}@example.no`);
    expect(l.size()).toBeLessThanOrEqual(1000);
    expect(l.reserve('kari@cosmenor.no').kind).toBe('allowed');
    expect(l.reserve('kari@cosmenor.no').kind).toBe('limited');
  });
});
