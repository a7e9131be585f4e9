/**
 * Deliveries: per handler pending / delivered / failed and latency (status change → delivered, over
 * its latest deliveries); the failed events with their last error; Redeliver one or all.
 */
import { useState } from 'preact/hooks';
import type { HandlerView } from '../../src/console/snapshot.js';
import type { EventSummary } from '../../src/console/views.js';
import { getJson, post, query } from './api.js';
import { count, duration, shortToken, time } from './format.js';
import { useLiveRead } from './live.js';

function HandlerRow({ h, onError }: { h: HandlerView; onError: (m: string) => void }) {
  const [busy, setBusy] = useState(false);
  const redeliverAll = () => {
    setBusy(true);
    post('redeliver', { handler: h.name })
      .catch((e: Error) => onError(`${h.name}: ${e.message}`))
      .finally(() => setBusy(false));
  };
  return (
    <tr data-handler={h.name}>
      <td>{h.name}</td>
      <td class="num" data-count="pending">{count(h.pending)}</td>
      <td class="num" data-count="delivered">{count(h.delivered)}</td>
      <td class={`num ${h.failed > 0 ? 'red' : ''}`} data-count="failed">{count(h.failed)}</td>
      <td class="num">{h.latency ? duration(h.latency.p50) : ''}</td>
      <td class="num">{h.latency ? duration(h.latency.p95) : ''}</td>
      <td class="num">
        <button class="btn small" disabled={busy || h.failed === 0} onClick={redeliverAll} data-command="redeliver-all">Redeliver all</button>
      </td>
    </tr>
  );
}

function FailedRow({ e, onOpen, onError }: { e: EventSummary; onOpen: (token: string) => void; onError: (m: string) => void }) {
  const [busy, setBusy] = useState(false);
  const redeliver = () => {
    setBusy(true);
    post('redeliver', { handler: e.handler, id: e.id })
      .catch((err: Error) => onError(`${e.handler}: ${err.message}`))
      .finally(() => setBusy(false));
  };
  return (
    <tr data-event-id={e.id} data-handler={e.handler}>
      <td>{time(e.createdAt)}</td>
      <td>{e.handler}</td>
      <td>{e.type}</td>
      <td class="mono">{e.token ? <a href="#" onClick={(ev) => (ev.preventDefault(), onOpen(e.token!))}>{shortToken(e.token)}</a> : e.queue}</td>
      <td class="num">{e.attempts}</td>
      <td class="error-text" title={e.lastError}>{e.lastError ?? ''}</td>
      <td class="num">
        <button class="btn small" disabled={busy} onClick={redeliver} data-command="redeliver">Redeliver</button>
      </td>
    </tr>
  );
}

export function Deliveries({ handlers, version, onOpen, onError }: { handlers: readonly HandlerView[]; version: number; onOpen: (token: string) => void; onError: (m: string) => void }) {
  const [handler, setHandler] = useState('');
  const failedTotal = handlers.reduce((n, h) => n + h.failed, 0);
  const { data } = useLiveRead(`events${query({ State: 'failed', Handler: handler, MaxResults: '50' })}`, version, (p) => getJson<{ events: EventSummary[]; next?: string }>(p));
  return (
    <section class="panel" id="deliveries">
      <h2>Deliveries</h2>
      <div class="card">
        <table class="list" id="handler-list">
          <thead>
            <tr>
              <th>Handler</th>
              <th class="num">Pending</th>
              <th class="num">Delivered</th>
              <th class="num">Failed</th>
              <th class="num">Latency p50</th>
              <th class="num">p95</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {handlers.map((h) => (
              <HandlerRow key={h.name} h={h} onError={onError} />
            ))}
            {handlers.length === 0 ? (
              <tr class="empty">
                <td colSpan={7}>No event handlers are configured.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <div class="card">
        <div class="filters">
          <h3>Failed events</h3>
          <label>
            Handler
            <select value={handler} onChange={(e) => setHandler(e.currentTarget.value)} name="handler">
              <option value="">all handlers</option>
              {handlers.map((h) => (
                <option key={h.name} value={h.name}>{h.name}</option>
              ))}
            </select>
          </label>
          <span class="spacer" />
          <span class="muted">{count(failedTotal)} failed in all{data?.next ? ' · newest 50 shown' : ''}</span>
        </div>
        <table class="list" id="failed-events">
          <thead>
            <tr>
              <th>Stored</th>
              <th>Handler</th>
              <th>Type</th>
              <th>Action</th>
              <th class="num">Tries</th>
              <th>Last error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.events.map((e) => <FailedRow key={`${e.seq}`} e={e} onOpen={onOpen} onError={onError} />)}
            {data && data.events.length === 0 ? (
              <tr class="empty">
                <td colSpan={7}>No failed events. Every event was delivered or is on its way.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}
