import crypto from 'node:crypto';
import type { TokenKey } from '../config';

/**
 * The unsubscribe link of previews and test mail (`/u/forhandsvisning`): the unsubscribe page
 * answers it with a page saying it is a test link, and changes nothing. It is no token shape,
 * so no member's link can ever be this one.
 */
export const TEST_UNSUBSCRIBE_TOKEN = 'forhandsvisning';

/**
 * Marks the links of test mail and previews (`/r/{campaignId}/{n}?test={marker}`), so their clicks
 * are not counted and a draft's links work. The marker is per campaign, the same for every test
 * address: an HMAC with the signing key, so nobody can make one to read a draft's links. It names
 * no person.
 */
export class TestLinks {
  constructor(private readonly keys: readonly TokenKey[]) {}

  marker(campaignId: number, key: TokenKey = this.keys[0]): string {
    return crypto
      .createHmac('sha256', key.secret)
      .update(`test-link:${campaignId}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }

  /** True for this campaign's marker under any of the keys (a rotated key's mail still works). */
  isTest(campaignId: number, marker: unknown): boolean {
    if (typeof marker !== 'string' || marker.length !== 22) return false;
    const given = Buffer.from(marker);
    return this.keys.some((key) => crypto.timingSafeEqual(given, Buffer.from(this.marker(campaignId, key))));
  }
}
