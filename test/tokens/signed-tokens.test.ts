import jwt from 'jsonwebtoken';
import { SignedTokens } from '../../src/tokens/signed-tokens';

const OLD = { kid: 'k2025', secret: 'old-secret-0123456789abcdef0123456789abcdef' };
const NEW = { kid: 'k2026', secret: 'new-secret-0123456789abcdef0123456789abcdef' };

describe('signed tokens', () => {
  it('round-trips the scope and member, compact enough for a URL', () => {
    const tokens = new SignedTokens([NEW]);
    const token = tokens.sign({ scope: 'unsubscribe', memberId: 123456 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThanOrEqual(115);
    expect(tokens.verify(token, 'unsubscribe')).toEqual({ scope: 'unsubscribe', memberId: 123456 });
    expect(jwt.decode(token, { complete: true })!.header).toMatchObject({ alg: 'HS256', kid: 'k2026' });
  });

  // kids are 1-32 of A-Z a-z 0-9 _ - (config.ts): ASCII, which jws writes as is.
  it('signs exactly what jsonwebtoken signs (links in mail already sent keep working either way)', () => {
    for (const key of [OLD, NEW, { kid: 'K_2027-x', secret: 'x'.repeat(40) }]) {
      const tokens = new SignedTokens([key]);
      for (const memberId of [1, 5, 123456, 2 ** 31 + 7, Number.MAX_SAFE_INTEGER]) {
        const expected = jwt.sign({ s: 'u', m: memberId }, key.secret, {
          algorithm: 'HS256',
          noTimestamp: true,
          header: { alg: 'HS256', kid: key.kid, typ: undefined },
        });
        const token = tokens.sign({ scope: 'unsubscribe', memberId });
        expect(token).toBe(expected);
        expect(jwt.verify(token, key.secret, { algorithms: ['HS256'] })).toEqual({ s: 'u', m: memberId });
        expect(tokens.verify(token, 'unsubscribe')).toEqual({ scope: 'unsubscribe', memberId });
      }
    }
  });

  it('rotates keys: the first key signs, every listed key verifies, a dropped key stops verifying', () => {
    const before = new SignedTokens([OLD]);
    const oldToken = before.sign({ scope: 'unsubscribe', memberId: 7 });
    const during = new SignedTokens([NEW, OLD]);
    expect(during.verify(oldToken, 'unsubscribe')).toEqual({ scope: 'unsubscribe', memberId: 7 });
    const newToken = during.sign({ scope: 'unsubscribe', memberId: 7 });
    expect(jwt.decode(newToken, { complete: true })!.header.kid).toBe('k2026');
    const after = new SignedTokens([NEW]);
    expect(after.verify(newToken, 'unsubscribe')).not.toBeNull();
    expect(after.verify(oldToken, 'unsubscribe')).toBeNull();
  });

  it('refuses altered, forged, unsigned and foreign tokens', () => {
    const tokens = new SignedTokens([NEW]);
    const good = tokens.sign({ scope: 'unsubscribe', memberId: 5 });
    const [h, p, s] = good.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ s: 'u', m: 6 })).toString('base64url');
    const flipped = s.slice(0, 5) + (s[5] === 'A' ? 'B' : 'A') + s.slice(6);
    const cases = [
      `${h}.${otherPayload}.${s}`, // payload changed
      `${h}.${p}.${flipped}`, // signature changed
      jwt.sign({ s: 'u', m: 5 }, 'another-secret-0123456789abcdef0123456789', {
        header: { alg: 'HS256', kid: 'k2026' },
        noTimestamp: true,
      }),
      jwt.sign({ s: 'u', m: 5 }, NEW.secret, { header: { alg: 'HS256', kid: 'nope' }, noTimestamp: true }),
      jwt.sign({ s: 'u', m: 5 }, NEW.secret, { noTimestamp: true }), // no kid
      `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'k2026' })).toString('base64url')}.${p}.`,
      jwt.sign({ s: 'u', m: 5 }, NEW.secret, {
        algorithm: 'HS512',
        header: { alg: 'HS512', kid: 'k2026' },
        noTimestamp: true,
      }),
      jwt.sign({ s: 'u', m: -1 }, NEW.secret, { header: { alg: 'HS256', kid: 'k2026' }, noTimestamp: true }),
      '',
      'x'.repeat(2000),
    ];
    for (const c of cases) expect(tokens.verify(c, 'unsubscribe')).toBeNull();
  });

  it('a token of another scope authorises nothing here', () => {
    const tokens = new SignedTokens([NEW]);
    const privacy = jwt.sign({ s: 'privacy', m: 5 }, NEW.secret, {
      header: { alg: 'HS256', kid: 'k2026' },
      noTimestamp: true,
    });
    expect(tokens.verify(privacy, 'unsubscribe')).toBeNull();
  });
});
