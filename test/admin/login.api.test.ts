import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app';
import { DEFAULT_LOGIN_LIMITS } from '../../src/staff/login-limiter';
import { hiddenCsrf, loginForm, PASSWORD, setCookie, staffUser } from './helpers';

/**
 * Issue #14 point 11: an empty login form asks for what is missing and counts nothing toward the
 * account's lockout. The limiter lives in memory, so SQLite is enough here.
 */
describe('the login form with fields left empty', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  /** One POST of the login form as a browser sends it, with its own double-submit token. */
  async function submit(fields: Record<string, string>) {
    const page = await request(t.app).get('/admin/login');
    const res = await request(t.app)
      .post('/admin/login')
      .set('Cookie', `kk_login=${setCookie(page, 'kk_login')!.value}`)
      .type('form')
      .send({ _csrf: hiddenCsrf(page.text), next: '/admin', ...fields });
    return res;
  }

  it('asks for the missing field in Norwegian, keeps the address, and says nothing about a wrong password', async () => {
    const empty = await submit({ email: '', password: '' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Fyll ut det som mangler');
    expect(empty.text).toContain('E-postadresse: Må fylles ut.');
    expect(empty.text).toContain('Passord: Må fylles ut.');
    expect(empty.text).not.toContain('Feil e-postadresse eller passord.');
    expect(setCookie(empty, 'kk_staff')).toBeNull();

    const noPassword = await submit({ email: 'kari@cosmenor.no', password: '' });
    expect(noPassword.status).toBe(422);
    expect(noPassword.text).toContain('Passord: Må fylles ut.');
    expect(noPassword.text).not.toContain('E-postadresse: Må fylles ut.');
    expect(noPassword.text).toMatch(/id="f-email" name="email"[^>]* value="kari@cosmenor.no"/);
    expect(noPassword.text).toMatch(
      /id="f-password" name="password" aria-describedby="f-password-error" aria-invalid="true"/,
    );

    const spaces = await submit({ email: '   ', password: PASSWORD });
    expect(spaces.status).toBe(422);
    expect(spaces.text).toContain('E-postadresse: Må fylles ut.');
  });

  it('counts no empty submission: after 4 wrong passwords and 10 empty forms, the right password still works', async () => {
    const email = await staffUser(t, 'privacy');
    const wrong = DEFAULT_LOGIN_LIMITS.perAccount - 1;
    for (let i = 0; i < wrong; i++)
      expect((await loginForm(t, email, `feil-passord-${i}-xxxxx`)).res.status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await submit({ email, password: '' })).status).toBe(422);
    for (let i = 0; i < 5; i++) expect((await submit({ email: '', password: PASSWORD })).status).toBe(422);
    const ok = (await loginForm(t, email)).res;
    expect(ok.status).toBe(303);
    expect(setCookie(ok, 'kk_staff')).not.toBeNull();
  });

  it('still locks an account after 5 wrong passwords (the empty ones in between not counted)', async () => {
    const email = await staffUser(t, 'marketing');
    for (let i = 0; i < DEFAULT_LOGIN_LIMITS.perAccount; i++) {
      expect((await submit({ email, password: '' })).status).toBe(422);
      expect((await loginForm(t, email, `feil-passord-${i}-xxxxx`)).res.status).toBe(401);
    }
    expect((await loginForm(t, email)).res.status).toBe(429);
  });

  it('the service makes no attempt of an empty address or password', async () => {
    const email = await staffUser(t, 'admin');
    for (let i = 0; i < 20; i++) {
      expect(await t.c.staff.auth.login(email, '')).toEqual({ kind: 'incomplete' });
      expect(await t.c.staff.auth.login(' ', PASSWORD)).toEqual({ kind: 'incomplete' });
    }
    expect((await t.c.staff.auth.login(email, PASSWORD)).kind).toBe('ok');
  });
});
