/**
 * Newsletters between the last checks and the end of their SMTP handoff in this process, by
 * member and by campaign. The worker marks them; leaving and restriction wait until their member
 * is clear, pause and cancel until their campaign is, so nothing goes out after the answer. One
 * per process, shared by the worker and the ledger.
 *
 * It also carries the in-process half of a pause or cancel: `stopCampaign` tells this process's
 * worker at once (it stops waiting for the rate and gives its claims back), and no handoff of the
 * campaign starts here until a status read that began after the stop finds it sending again.
 */
export class Handoffs {
  private readonly counts = new Map<number, number>();
  private readonly campaigns = new Map<number, number>();
  /** Campaign → when (local monotonic time) this process paused or cancelled it. */
  private readonly stopped = new Map<number, number>();
  private readonly listeners = new Set<(campaignId: number) => void>();

  begin(memberId: number, campaignId?: number): void {
    increment(this.counts, memberId);
    if (campaignId !== undefined) increment(this.campaigns, campaignId);
  }

  end(memberId: number, campaignId?: number): void {
    decrement(this.counts, memberId);
    if (campaignId !== undefined) decrement(this.campaigns, campaignId);
  }

  has(memberId: number): boolean {
    return this.counts.has(memberId);
  }

  hasCampaign(campaignId: number): boolean {
    return this.campaigns.has(campaignId);
  }

  get size(): number {
    return this.counts.size;
  }

  /** The campaign was paused or cancelled in this process (after its status change committed). */
  stopCampaign(campaignId: number): void {
    this.stopped.set(campaignId, performance.now());
    for (const listener of this.listeners) listener(campaignId);
  }

  /** Whether a stop in this process still holds: no status read begun since has found it sending. */
  isStopped(campaignId: number): boolean {
    return this.stopped.has(campaignId);
  }

  /**
   * A status read begun at `readStartedAt` found the campaign sending: a stop before that read
   * was undone (resumed, here or in another process). A read begun before the stop proves nothing.
   */
  sawSending(campaignId: number, readStartedAt: number): void {
    const at = this.stopped.get(campaignId);
    if (at !== undefined && at < readStartedAt) this.stopped.delete(campaignId);
  }

  /** Called with the campaign's id on each stopCampaign; returns the unsubscribe. */
  onStop(listener: (campaignId: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function increment(m: Map<number, number>, key: number): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

function decrement(m: Map<number, number>, key: number): void {
  const n = (m.get(key) ?? 1) - 1;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}
