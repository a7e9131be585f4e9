/**
 * The console's live updates by Server-Sent Events. One feed for every viewer: a change (an action
 * queued, started or ended, events stored, a command from a console) marks the overview dirty, and
 * it is rebuilt at most every `minIntervalMs` and sent to every open stream. Pages never poll: they
 * re-read the list they show when a snapshot arrives (a change that moves no count, such as a new
 * priority, still sends one). Without viewers nothing is built (a change only sets a flag). A slow
 * fallback rebuild catches changes no signal announces (another node's claims on a shared store,
 * the retention purge, progress of running actions) and is sent only when a count moved or
 * actions are running.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorText } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Snapshot } from './snapshot.js';

export interface LiveFeedOptions {
  readonly minIntervalMs?: number;
  readonly fallbackMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  readonly keepAliveMs?: number;
}

interface Viewer {
  readonly res: ServerResponse;
  /** The stream's buffer was full: the newest snapshot waits for 'drain' (older ones are dropped). */
  waiting: boolean;
}

export class LiveFeed {
  private readonly viewers = new Set<Viewer>();
  private dirty = true;
  private building = false;
  private timer: NodeJS.Timeout | undefined;
  private lastBuilt = 0;
  private lastKey = '';
  /** Signalled changes so far: part of a snapshot's key, so each one reaches the pages. */
  private changes = 0;
  private fallbackTicks = 0;
  private lastMessage = '';
  private fallback: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly fallbackMs: number;
  private readonly keepAliveMs: number;

  constructor(
    private readonly build: () => Promise<Snapshot>,
    private readonly log: Logger,
    options: LiveFeedOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.fallbackMs = options.fallbackMs ?? 5000;
    this.keepAliveMs = options.keepAliveMs ?? 20_000;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Something the overview or a page's list may show has changed. */
  changed(): void {
    this.changes++;
    this.dirty = true;
    this.schedule();
  }

  /** Opens an event stream on `res`; the viewer gets the latest snapshot at once. */
  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    // The browser reconnects by itself after 2 s if the stream breaks.
    res.write('retry: 2000\n\n');
    const viewer: Viewer = { res, waiting: false };
    this.viewers.add(viewer);
    req.socket.setNoDelay(true);
    res.on('close', () => this.viewers.delete(viewer));
    res.on('drain', () => {
      if (!viewer.waiting) return;
      viewer.waiting = false;
      this.send(viewer, this.lastMessage);
    });
    if (this.lastMessage && !this.dirty) this.send(viewer, this.lastMessage);
    else this.changed();
    this.startTimers();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.fallback);
    clearInterval(this.keepAlive);
    for (const v of this.viewers) v.res.end();
    this.viewers.clear();
  }

  private startTimers(): void {
    if (this.fallback) return;
    this.fallback = setInterval(() => {
      if (this.viewers.size === 0) return this.stopTimers();
      this.fallbackTicks++;
      this.dirty = true;
      this.schedule();
    }, this.fallbackMs);
    this.keepAlive = setInterval(() => {
      for (const v of this.viewers) if (!v.waiting) v.res.write(': keep-alive\n\n');
    }, this.keepAliveMs);
  }

  private stopTimers(): void {
    clearInterval(this.fallback);
    clearInterval(this.keepAlive);
    this.fallback = this.keepAlive = undefined;
  }

  private schedule(): void {
    if (this.closed || this.viewers.size === 0 || this.building || this.timer) return;
    const wait = Math.max(0, this.lastBuilt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.rebuild();
    }, wait);
  }

  private async rebuild(): Promise<void> {
    this.building = true;
    this.dirty = false;
    try {
      const snapshot = await this.build();
      // The throughput window moves every second; a snapshot is news only when a count changed.
      const running = snapshot.queues.some((q) => q.processing > 0);
      const key = JSON.stringify([this.changes, running ? this.fallbackTicks : 0, snapshot.queues, snapshot.handlers, totals(snapshot)]);
      if (key !== this.lastKey || !this.lastMessage) {
        this.lastKey = key;
        this.lastMessage = `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
        for (const v of this.viewers) this.send(v, this.lastMessage);
      }
    } catch (e) {
      // The store may be away for a while (ERRORSTOREUNAVAILABLE); the next change or the fallback tries again.
      this.log.warn('console: the live overview could not be read', { error: errorText(e) });
    } finally {
      this.building = false;
      this.lastBuilt = Date.now();
      if (this.dirty) this.schedule();
    }
  }

  private send(viewer: Viewer, message: string): void {
    if (viewer.waiting) return;
    if (!viewer.res.write(message)) viewer.waiting = true;
  }
}

function totals(s: Snapshot): number {
  let n = 0;
  for (const q of Object.values(s.throughput.queues)) for (const v of q.finished) n += v;
  for (const q of Object.values(s.throughput.queues)) for (const v of q.failed) n += v;
  return n;
}
