import type { Recipient } from './delivery.store';

interface Waiter {
  resolve(r: Recipient | null): void;
  reject(err: unknown): void;
}

/**
 * The re-check right before handoff, shared between the sender loops: each loop asks for its
 * member just before handing the message to SMTP, and the asks that arrive in the same turn of
 * the event loop, or while a read is running, are answered together by the next read (one
 * indexed `IN` lookup instead of one query each). A read only answers asks made before it
 * started, so no message goes out on data older than its own re-check. At most one ask per
 * sender loop is waiting, which bounds the batch.
 */
export class RecipientCheck {
  private asked = new Map<number, Waiter[]>();
  private reading = false;

  constructor(private readonly read: (memberIds: number[]) => Promise<Map<number, Recipient>>) {}

  /** The member as they are now, or null when erased. */
  check(memberId: number): Promise<Recipient | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.asked.get(memberId);
      if (waiters) waiters.push({ resolve, reject });
      else this.asked.set(memberId, [{ resolve, reject }]);
      if (!this.reading) {
        this.reading = true;
        setImmediate(() => void this.readAll());
      }
    });
  }

  private async readAll(): Promise<void> {
    while (this.asked.size > 0) {
      const batch = this.asked;
      this.asked = new Map();
      try {
        const found = await this.read([...batch.keys()]);
        for (const [memberId, waiters] of batch)
          for (const w of waiters) w.resolve(found.get(memberId) ?? null);
      } catch (err) {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      }
    }
    this.reading = false;
  }
}
