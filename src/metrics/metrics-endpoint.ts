/**
 * `GET /metrics` on the ACI port (decisions.md "Metrics"): Prometheus text format. Authorized like
 * the console and Admin actions: a client needs the admin role, or a role with `Actions=Metrics`
 * (a Prometheus server on another host); a client refused gets 403 and a log line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorText } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Authorizer } from '../aci/authorization.js';
import type { TocsinMetrics } from './metrics.js';

/** The name authorization sees: `[AuthorizationRoles]` may grant `Actions=Metrics` on its own. */
export const METRICS_ACTION = 'Metrics';

export function isMetricsPath(url: string | undefined): boolean {
  return url === '/metrics' || (url !== undefined && url.startsWith('/metrics?'));
}

export function createMetricsEndpoint(metrics: TocsinMetrics, authorize: Authorizer, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const client = req.socket.remoteAddress ?? '';
    req.resume();
    if (!authorize(client, METRICS_ACTION, 'admin')) {
      log.warn('metrics: access refused', { client });
      return sendText(res, 403, `Client ${client} may not read /metrics (it needs the admin role, or Actions=Metrics; see [AuthorizationRoles])`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, '/metrics answers GET only');
    metrics.scrape().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        log.error('metrics: scrape failed', { error: errorText(e) });
        sendText(res, 503, 'The metrics could not be read from the store');
      },
    );
  };
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
