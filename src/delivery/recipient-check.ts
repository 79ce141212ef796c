import type { Recipient } from './delivery.store';
import { SharedRead } from './shared-read';

/**
 * The re-check right before handoff: each sender loop asks for its member just before handing the
 * message to SMTP; asks close together share one read of the members room (see SharedRead).
 */
export class RecipientCheck extends SharedRead<number, Recipient> {
  /** The member as they are now, or null when erased. */
  check(memberId: number): Promise<Recipient | null> {
    return this.get(memberId);
  }
}
