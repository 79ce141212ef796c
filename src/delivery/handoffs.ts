/**
 * Members whose newsletter is between the re-check and the end of its SMTP handoff in this
 * process. The worker marks them; leaving and restriction wait until their member is clear, so
 * nothing goes out after the answer. One per process, shared by the worker and the ledger.
 */
export class Handoffs {
  private readonly counts = new Map<number, number>();

  begin(memberId: number): void {
    this.counts.set(memberId, (this.counts.get(memberId) ?? 0) + 1);
  }

  end(memberId: number): void {
    const n = (this.counts.get(memberId) ?? 1) - 1;
    if (n <= 0) this.counts.delete(memberId);
    else this.counts.set(memberId, n);
  }

  has(memberId: number): boolean {
    return this.counts.has(memberId);
  }

  get size(): number {
    return this.counts.size;
  }
}
