interface Waiter<V> {
  resolve(v: V | null): void;
  reject(err: unknown): void;
}

/**
 * A read shared between the sender loops, right before handoff: the asks that arrive in the same
 * turn of the event loop, or while a read is running, are answered together by the next read (one
 * indexed `IN` lookup instead of one query each). A read only answers asks made before it
 * started, so no message goes out on data older than its own ask. At most one ask per sender loop
 * is waiting, which bounds the batch.
 */
export class SharedRead<K, V> {
  private asked = new Map<K, Array<Waiter<V>>>();
  private reading = false;

  constructor(private readonly read: (keys: K[]) => Promise<Map<K, V>>) {}

  /** The value as a read started after this call found it, or null when there is none. */
  get(key: K): Promise<V | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.asked.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.asked.set(key, [{ resolve, reject }]);
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
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key) ?? null);
      } catch (err) {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      }
    }
    this.reading = false;
  }
}
