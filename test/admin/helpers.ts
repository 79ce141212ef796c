import request from 'supertest';
import type { StaffRole } from '../../src/staff/roles';
import type { TestApp } from '../support/test-app';

export const PASSWORD = 'riktig-hest-batteri-stift';

/** A staff account made the way the CLI makes it. */
export async function staffUser(
  t: TestApp,
  role: StaffRole,
  email = `${role}.${Math.random().toString(36).slice(2, 8)}@cosmenor.no`,
): Promise<string> {
  await t.c.staff.users.create(email, role, PASSWORD);
  return email;
}

/** `name=value` of a Set-Cookie line, and the line itself. */
export function setCookie(res: request.Response, name: string): { value: string; line: string } | null {
  const raw = res.headers['set-cookie'] as unknown as string[] | string | undefined;
  const lines = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  return line ? { value: line.slice(name.length + 1).split(';')[0], line } : null;
}

export function hiddenCsrf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field in the page');
  return m[1];
}

export interface Session {
  cookie: string;
  csrf: string;
}

/** The login form as a browser uses it: GET (login cookie + token), POST, then the dashboard for the session's token. */
export async function loginForm(
  t: TestApp,
  email: string,
  password = PASSWORD,
): Promise<{ res: request.Response; loginCookie: string; token: string }> {
  const page = await request(t.app).get('/admin/login');
  const login = setCookie(page, 'kk_login')!;
  const token = hiddenCsrf(page.text);
  const res = await request(t.app)
    .post('/admin/login')
    .set('Cookie', `kk_login=${login.value}`)
    .type('form')
    .send({ _csrf: token, email, password, next: '/admin' });
  return { res, loginCookie: login.value, token };
}

export async function login(t: TestApp, email: string, password = PASSWORD): Promise<Session> {
  const { res } = await loginForm(t, email, password);
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  const cookie = `kk_staff=${setCookie(res, 'kk_staff')!.value}`;
  const home = await request(t.app).get('/admin').set('Cookie', cookie);
  const m = /<meta name="csrf-token" content="([^"]+)">/.exec(home.text);
  if (!m) throw new Error('no csrf meta on the dashboard');
  return { cookie, csrf: m[1] };
}

export const get = (t: TestApp, s: Session, path: string) => request(t.app).get(path).set('Cookie', s.cookie);

/** A form post as the browser sends it, with the session's token unless `csrf: null`. */
export function post(
  t: TestApp,
  s: Session,
  path: string,
  body: Record<string, string | string[]> = {},
  csrf: string | null = s.csrf,
) {
  return request(t.app)
    .post(path)
    .set('Cookie', s.cookie)
    .type('form')
    .send(formBody({ ...(csrf === null ? {} : { _csrf: csrf }), ...body }));
}

/** urlencoded with repeated keys for lists (`audience.sources=a&audience.sources=b`), as browsers send. */
export function formBody(body: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) for (const item of Array.isArray(v) ? v : [v]) p.append(k, item);
  return p.toString();
}
