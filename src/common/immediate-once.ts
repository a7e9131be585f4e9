/**
 * Runs a function on the next setImmediate, once however often it is asked for before then: the
 * batching of the threads' message queues (HttpHandler, LuaHandler). setImmediate rather than a
 * microtask, so work started by the continuations of answers just settled joins the same batch.
 */
export class ImmediateOnce {
  private pending = false;

  constructor(private readonly run: () => void) {}

  request(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.run();
    });
  }
}
