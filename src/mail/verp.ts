import crypto from 'node:crypto';

/**
 * VERP envelope senders (CONTRACT §9): every mail leaves with `MAIL FROM:<b-{tag}@{BOUNCE_DOMAIN}>`,
 * so a bounce names the message it is about. A tag is `{payload}-{mac}`:
 * - payload `d{id}` is a newsletter (the delivery ledger's row id), `t{memberId}` a transactional
 *   mail to that member (confirmation, privacy link), `x` a test send that names nothing (ids in base 36);
 * - mac is 16 base-32 characters (80 bits) of HMAC-SHA256 over the payload and the recipient's
 *   address, under a key of the service. A forged report cannot name another member's message,
 *   and a report about an address the member no longer has (rectified since) no longer verifies.
 * Lower case only: some relays fold the local part. The whole local part stays far below 64.
 */

export const TEST_TAG = 'x';
const PAYLOAD = /^(d|t)[0-9a-z]{1,12}$|^x$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const MAC_LENGTH = 16;

export const deliveryTag = (deliveryId: number): string => `d${deliveryId.toString(36)}`;
export const memberMailTag = (memberId: number): string => `t${memberId.toString(36)}`;

export type TagTarget = { kind: 'delivery'; id: number } | { kind: 'member'; id: number } | { kind: 'test' };

export interface ParsedTag {
  payload: string;
  mac: string;
  target: TagTarget;
}

export class VerpTags {
  readonly domain: string;
  private readonly key: string;

  constructor(domain: string, key: string) {
    this.domain = domain.toLowerCase();
    this.key = key;
  }

  /** The envelope sender for a mail with this payload to `recipient`. */
  returnPath(payload: string, recipient: string): string {
    if (!PAYLOAD.test(payload)) throw new TypeError(`bad bounce tag payload ${payload}`);
    return `b-${payload}-${this.mac(payload, recipient)}@${this.domain}`;
  }

  /** Reads `b-{payload}-{mac}@{domain}`; null for anything else (another domain, another shape). */
  parse(address: string): ParsedTag | null {
    const m = /^b-([0-9a-z]{1,13})-([a-z2-7]{16})@(.+)$/.exec(address.trim().toLowerCase());
    if (!m || m[3] !== this.domain || !PAYLOAD.test(m[1])) return null;
    const payload = m[1];
    const id = parseInt(payload.slice(1), 36);
    const target: TagTarget =
      payload === TEST_TAG
        ? { kind: 'test' }
        : payload[0] === 'd'
          ? { kind: 'delivery', id }
          : { kind: 'member', id };
    if (target.kind !== 'test' && !(Number.isSafeInteger(id) && id > 0)) return null;
    return { payload, mac: m[2], target };
  }

  /** True when the tag was made by this service for a mail to `recipient`. Constant time. */
  verify(tag: ParsedTag, recipient: string): boolean {
    const expected = Buffer.from(this.mac(tag.payload, recipient));
    const given = Buffer.from(tag.mac);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  /** Every `b-…@{domain}` address in a text (a returned message's headers, a feedback report). */
  findIn(text: string): string[] {
    const domain = this.domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`\\bb-[0-9a-z]{1,13}-[a-z2-7]{16}@${domain}\\b`, 'gi');
    return [...new Set((text.match(re) ?? []).map((a) => a.toLowerCase()))];
  }

  private mac(payload: string, recipient: string): string {
    const digest = crypto
      .createHmac('sha256', this.key)
      .update(`${payload}\n${recipient.trim().toLowerCase()}`)
      .digest();
    return base32(digest).slice(0, MAC_LENGTH);
  }
}

/** A short keyed fingerprint of an address: tells two addresses of one member apart without holding either. */
export function addressFingerprint(key: string, address: string): string {
  return crypto
    .createHmac('sha256', key)
    .update(`fp\n${address.trim().toLowerCase()}`)
    .digest('hex')
    .slice(0, 12);
}

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}
