/**
 * LISTEN on a dedicated connection: what other nodes committed (events stored, work queued,
 * control of running actions). A lost connection is opened again with back-off; what was missed
 * meanwhile is found by the bounded polls of the scheduler and the delivery engine.
 */
import pg from 'pg';
import type { Logger } from '../../common/logger.js';
import { CHANNEL, type Notice } from './append-events.js';

const MAX_BACKOFF_MS = 5_000;

export class Notifications {
  private client: pg.Client | undefined;
  private closed = false;
  private backoff = 100;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly storeId: string,
    private readonly onNotice: (notice: Notice) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        const notice = JSON.parse(msg.payload) as Notice;
        if (notice.s !== this.storeId) this.onNotice(notice);
      } catch {
        // Not ours: another program on the same channel.
      }
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
    this.backoff = 100;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.log.warn('lost the PostgreSQL notification connection; reconnecting', { retryInMs: this.backoff });
    this.retry();
  }

  private retry(): void {
    this.timer = setTimeout(() => {
      this.connect().then(
        () => this.log.info('PostgreSQL notifications are back'),
        () => {
          this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
          if (!this.closed) this.retry();
        },
      );
    }, this.backoff);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
