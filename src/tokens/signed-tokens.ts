import crypto, { type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { TokenKey } from '../config';

/** What a signed token may do. A token of one scope is refused everywhere else. */
export type TokenScope = 'unsubscribe';

export interface TokenClaims {
  scope: TokenScope;
  memberId: number;
}

/** One-letter scope codes keep the payload short. */
const SCOPE_CODES: Record<TokenScope, string> = { unsubscribe: 'u' };

interface Payload {
  s: string;
  m: number;
}

/**
 * Scoped HS256 tokens for links in e-mail. The header carries `kid`; the first key signs and
 * every key verifies, so keys rotate without breaking links in newsletters already sent.
 * Payload is kept tiny (no iat, short claim names) so the URL stays compact.
 */
export class SignedTokens {
  // KeyObjects, not strings: given a string, jsonwebtoken first tries to parse it as a PEM private
  // key and throws, which cost more than the signature itself in the delivery hot path.
  private readonly byKid: Map<string, KeyObject>;
  private readonly signer: { kid: string; key: KeyObject };
  /** `base64url(header) + '.'` of every token signed here: the same for all of them. */
  private readonly signedPrefix: string;

  constructor(keys: readonly TokenKey[]) {
    if (keys.length === 0) throw new Error('at least one token key is required');
    this.byKid = new Map(keys.map((k) => [k.kid, crypto.createSecretKey(Buffer.from(k.secret, 'utf8'))]));
    this.signer = { kid: keys[0].kid, key: this.byKid.get(keys[0].kid)! };
    // The header jsonwebtoken writes for `sign` below: alg, then kid, no typ.
    const header = JSON.stringify({ alg: 'HS256', kid: this.signer.kid });
    this.signedPrefix = `${Buffer.from(header).toString('base64url')}.`;
  }

  /**
   * A compact JWS (RFC 7515) signed with HS256, byte for byte what `jwt.sign(payload, key,
   * { noTimestamp: true, header: { alg: 'HS256', kid, typ: undefined } })` returns (the test holds
   * them equal), built directly: jsonwebtoken's option checks cost more than the HMAC, once per
   * recipient of every newsletter.
   */
  sign(claims: TokenClaims): string {
    const payload: Payload = { s: SCOPE_CODES[claims.scope], m: claims.memberId };
    const signingInput = this.signedPrefix + Buffer.from(JSON.stringify(payload)).toString('base64url');
    const signature = crypto.createHmac('sha256', this.signer.key).update(signingInput).digest('base64url');
    return `${signingInput}.${signature}`;
  }

  /** Returns the claims when the token is genuine and of the expected scope; otherwise null. */
  verify(token: string, scope: TokenScope): TokenClaims | null {
    if (typeof token !== 'string' || token.length > 1000) return null;
    const decoded = jwt.decode(token, { complete: true });
    const kid = decoded && typeof decoded.header.kid === 'string' ? decoded.header.kid : undefined;
    const secret = kid ? this.byKid.get(kid) : undefined;
    if (!secret) return null;
    try {
      const p = jwt.verify(token, secret, { algorithms: ['HS256'] }) as Partial<Payload>;
      if (p.s !== SCOPE_CODES[scope] || !Number.isSafeInteger(p.m) || (p.m as number) <= 0) return null;
      return { scope, memberId: p.m as number };
    } catch {
      return null;
    }
  }
}
