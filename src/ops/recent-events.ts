import type { CarrierEvent } from '../health/types.js';

/**
 * The last carrier state changes, newest first, for the status page: a fixed-size ring, so a flapping carrier
 * costs constant memory and the page stays one screen long. The full history is in the log and the database.
 */
export class RecentEvents {
  private readonly ring: CarrierEvent[] = [];
  private next = 0;

  constructor(private readonly capacity = 50) {}

  add(e: CarrierEvent): void {
    if (this.ring.length < this.capacity) this.ring.push(e);
    else this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(): readonly CarrierEvent[] {
    const oldestFirst = this.ring.length < this.capacity ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return [...oldestFirst].reverse();
  }
}
