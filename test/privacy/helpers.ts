import crypto from 'node:crypto';
import request from 'supertest';
import { buildSignUp, linkIn, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';

const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);
export const PRIVACY_RE = new RegExp(`${TEST_PUBLIC_URL}/p/[A-Za-z0-9_-]+`);

/** A person whose every field is unique, so a dump grep finds only them. */
export function uniquePerson(tag: string): Record<string, string> {
  const r = crypto.randomBytes(4).toString('hex');
  const digits = String(crypto.randomInt(10_000_000, 99_999_999));
  return {
    email: `${tag}.${r}@example.no`,
    firstName: `Fornavn${r}`,
    lastName: `Etternavn${r}`,
    phone: `+47${digits}`,
    externalId: `ext-${r}`,
    partnerId: `salong-${r}`,
  };
}

export const signUp = (t: TestApp, body: Record<string, unknown>) =>
  request(t.app).post('/v1/members').set('authorization', `Bearer ${t.tokens.app}`).send(body);

/** The newest link matching `re` in mail to `email`, as a path. */
export async function linkFromMail(t: TestApp, email: string, re: RegExp, count = 1): Promise<string> {
  await t.peer.waitFor(
    () =>
      t.peer.mailsTo(email).filter((m) => re.test(`${m.parsed.html || ''}\n${m.parsed.text || ''}`)).length >=
      count,
    10000,
  );
  const mail = t.peer
    .mailsTo(email)
    .filter((m) => re.test(`${m.parsed.html || ''}\n${m.parsed.text || ''}`))
    .at(-1)!;
  const link = linkIn(`${mail.parsed.html || ''}\n${mail.parsed.text || ''}`, re)!;
  return link.slice(TEST_PUBLIC_URL.length);
}

/** Signs up and confirms through the real mail and the real /c/ page: an `active` member. */
export async function activeMember(t: TestApp, person: Record<string, string>): Promise<number> {
  const created = await signUp(t, buildSignUp(person));
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${created.text}`);
  const path = await linkFromMail(t, person.email, CONFIRM_RE);
  const confirmed = await request(t.app).post(path).type('form').send('');
  if (confirmed.status !== 200) throw new Error(`confirmation failed: ${confirmed.status}`);
  return created.body.id as number;
}

export const unsubscribePath = (t: TestApp, memberId: number) =>
  `/u/${t.c.tokens.sign({ scope: 'unsubscribe', memberId })}`;
