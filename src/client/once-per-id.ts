/**
 * Runs a handler at most once per successful event id (delivery is at least once, so the same
 * event may come again): an id is remembered once its handling succeeded, in a bounded set of the
 * newest ids; a copy arriving while the first is being handled waits for it and shares its
 * outcome; a failed handling is forgotten, so the redelivery runs it again.
 */
export class OncePerId {
  /** Handled ids, oldest first (a Map keeps insertion order). */
  private readonly handled = new Map<string, true>();
  private readonly inFlight = new Map<string, Promise<void>>();
  duplicates = 0;

  constructor(private readonly remember: number) {}

  async run(id: string, handle: () => void | Promise<void>): Promise<void> {
    if (this.handled.has(id)) {
      this.duplicates++;
      return;
    }
    const running = this.inFlight.get(id);
    if (running) {
      this.duplicates++;
      return running;
    }
    const run = (async () => handle())();
    this.inFlight.set(id, run);
    try {
      await run;
      this.handled.set(id, true);
      if (this.handled.size > this.remember) this.handled.delete(this.handled.keys().next().value!);
    } finally {
      this.inFlight.delete(id);
    }
  }
}
