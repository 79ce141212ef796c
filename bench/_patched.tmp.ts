/* eslint-disable */
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SignedTokens } from '../src/tokens/signed-tokens';
(SignedTokens.prototype as any).sign = function (claims: { scope: string; memberId: number }) {
  const signer = (this as any).signer;
  signer.key ??= crypto.createSecretKey(Buffer.from(signer.secret, 'utf8'));
  return jwt.sign({ s: claims.scope, m: claims.memberId }, signer.key, { algorithm: 'HS256', noTimestamp: true, header: { alg: 'HS256', kid: signer.kid } });
};
process.stderr.write('[experiment] SignedTokens.sign uses a KeyObject\n');
require('./delivery');
