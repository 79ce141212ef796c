import crypto from 'node:crypto';

/** Random single-use tokens (confirmation, privacy link): the link carries the token, the DB its hash. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = crypto.randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}
