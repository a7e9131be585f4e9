/** The actions: a live, filtered, paged list (newest first); a row opens the detail view. */
import { useState } from 'preact/hooks';
import type { ActionSummary } from '../../src/console/views.js';
import { getJson, query } from './api.js';
import { duration, shortToken, time } from './format.js';
import { useLiveRead } from './live.js';

const STATUS_FILTERS: readonly [string, string][] = [
  ['', 'any status'],
  ['Queued,Paused,Processing', 'waiting or running'],
  ['Processing', 'running'],
  ['Queued', 'queued'],
  ['Paused', 'paused'],
  ['completed', 'completed'],
  ['Finished', 'finished'],
  ['Error', 'error'],
  ['Cancelled,Stopped', 'cancelled or stopped'],
];
const TIME_FILTERS: readonly [number, string][] = [
  [0, 'any time'],
  [5 * 60, 'last 5 minutes'],
  [60 * 60, 'last hour'],
  [24 * 60 * 60, 'last 24 hours'],
];

interface Filters {
  readonly queue: string;
  readonly state: string;
  readonly within: number;
}

export function StatusPill({ status }: { status: string }) {
  return <span class={`pill s-${status.toLowerCase()}`}>{status}</span>;
}

function Row({ a, selected, onOpen }: { a: ActionSummary; selected: boolean; onOpen: (token: string) => void }) {
  const ran = a.startedAt !== undefined ? (a.endedAt ?? Date.now()) - a.startedAt : undefined;
  return (
    <tr class={selected ? 'selected' : ''} data-token={a.token} data-status={a.status} onClick={() => onOpen(a.token)} tabIndex={0} onKeyDown={(e) => e.key === 'Enter' && onOpen(a.token)}>
      <td class="mono" title={a.token}>{shortToken(a.token)}</td>
      <td>{a.queue}</td>
      <td>
        <StatusPill status={a.status} />
        {a.status === 'Processing' && a.progress !== undefined ? (
          <span class="progress" title={`${Math.round(a.progress * 100)} %`}>
            <span style={{ width: `${Math.round(a.progress * 100)}%` }} />
          </span>
        ) : null}
      </td>
      <td class="num">{a.priority}</td>
      <td>{time(a.queuedAt)}</td>
      <td class="num">{duration(ran)}</td>
      <td class="num">{a.attempts}</td>
      <td class="error-text" title={a.error}>{a.error ?? ''}</td>
    </tr>
  );
}

export function Actions({ queues, version, selected, onOpen }: { queues: readonly string[]; version: number; selected: string | undefined; onOpen: (token: string) => void }) {
  const [filters, setFilters] = useState<Filters>({ queue: '', state: '', within: 0 });
  // Cursors of the pages before this one (Newer goes back), and this page's cursor.
  const [trail, setTrail] = useState<(string | undefined)[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [since] = useState(() => ({ at: 0 }));
  // A time window is fixed when chosen, so that paging through it is stable.
  const after = filters.within > 0 ? String(Math.floor(since.at / 1000) - filters.within) : undefined;
  const path = `actions${query({ QueueName: filters.queue, State: filters.state, 'Queued-After': after, MaxResults: '25', Cursor: cursor })}`;
  const { data, error, loading } = useLiveRead(path, version, (p) => getJson<{ actions: ActionSummary[]; next?: string }>(p));

  const change = (patch: Partial<Filters>) => {
    since.at = Date.now();
    setFilters({ ...filters, ...patch });
    setTrail([]);
    setCursor(undefined);
  };
  const older = () => {
    if (!data?.next) return;
    setTrail([...trail, cursor]);
    setCursor(data.next);
  };
  const newer = () => {
    setCursor(trail[trail.length - 1]);
    setTrail(trail.slice(0, -1));
  };

  return (
    <section class="panel" id="actions">
      <h2>Actions</h2>
      <div class="card">
        <div class="filters">
          <label>
            Queue
            <select value={filters.queue} onChange={(e) => change({ queue: e.currentTarget.value })} name="queue">
              <option value="">all queues</option>
              {queues.map((q) => (
                <option key={q} value={q}>{q}</option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select value={filters.state} onChange={(e) => change({ state: e.currentTarget.value })} name="state">
              {STATUS_FILTERS.map(([v, label]) => (
                <option key={v} value={v}>{label}</option>
              ))}
            </select>
          </label>
          <label>
            Queued
            <select value={String(filters.within)} onChange={(e) => change({ within: Number(e.currentTarget.value) })} name="within">
              {TIME_FILTERS.map(([v, label]) => (
                <option key={v} value={String(v)}>{label}</option>
              ))}
            </select>
          </label>
          <span class="spacer" />
          {cursor === undefined ? <span class="muted live-note">live · newest first</span> : <span class="muted">older page {trail.length + 1}</span>}
        </div>
        {error ? <p class="error-banner">{error}</p> : null}
        <table class={`list ${loading ? 'loading' : ''}`} id="action-list">
          <thead>
            <tr>
              <th>Token</th>
              <th>Queue</th>
              <th>Status</th>
              <th class="num">Priority</th>
              <th>Queued</th>
              <th class="num">Ran</th>
              <th class="num">Attempts</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {data?.actions.map((a) => <Row key={a.token} a={a} selected={a.token === selected} onOpen={onOpen} />)}
            {data && data.actions.length === 0 ? (
              <tr class="empty">
                <td colSpan={8}>No actions match.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
        <div class="pager">
          <button class="btn" disabled={cursor === undefined} onClick={newer} data-page="newer">← Newer</button>
          <button class="btn" disabled={!data?.next} onClick={older} data-page="older">Older →</button>
        </div>
      </div>
    </section>
  );
}
