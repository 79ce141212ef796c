import type { Recipient } from '../../src/delivery/delivery.store';
import { RecipientCheck } from '../../src/delivery/recipient-check';

const member = (memberId: number, status = 'active'): Recipient => ({
  memberId,
  email: `m${memberId}@example.no`,
  firstName: null,
  status,
  source: 'osme-mobile',
  partnerId: null,
});

describe('RecipientCheck (the shared re-check before handoff)', () => {
  it('answers asks made in the same turn with one read', async () => {
    const reads: number[][] = [];
    const check = new RecipientCheck(async (ids) => {
      reads.push(ids);
      return new Map(ids.filter((id) => id !== 3).map((id) => [id, member(id)]));
    });
    const [a, b, c] = await Promise.all([check.check(1), check.check(2), check.check(3)]);
    expect(reads).toEqual([[1, 2, 3]]);
    expect(a?.memberId).toBe(1);
    expect(b?.memberId).toBe(2);
    expect(c).toBeNull(); // erased: not found
  });

  it('an ask made while a read runs waits for the next read and sees the change', async () => {
    let status = 'active';
    let release!: () => void;
    const reads: number[][] = [];
    const check = new RecipientCheck(async (ids) => {
      reads.push(ids);
      const snapshot = status;
      if (reads.length === 1) await new Promise<void>((r) => (release = r));
      return new Map(ids.map((id) => [id, member(id, snapshot)]));
    });
    const first = check.check(7);
    await new Promise((r) => setImmediate(r)); // the first read has started
    status = 'unsubscribed'; // the member leaves while it runs
    const second = check.check(7);
    release();
    expect((await first)?.status).toBe('active');
    expect((await second)?.status).toBe('unsubscribed');
    expect(reads).toEqual([[7], [7]]);
  });

  it('a failed read fails every ask of its batch, and the next ask reads again', async () => {
    let fail = true;
    const check = new RecipientCheck(async (ids) => {
      if (fail) throw new Error('database gone');
      return new Map(ids.map((id) => [id, member(id)]));
    });
    const results = await Promise.allSettled([check.check(1), check.check(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await check.check(1))?.memberId).toBe(1);
  });
});
