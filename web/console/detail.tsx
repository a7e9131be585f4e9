/**
 * One action in detail: its record (as QueueInfo GetStatus shows it), parameters, progress,
 * attempts, output tail and errors, every event it caused with each handler's delivery state, and
 * Cancel / Stop / Pause / Resume / ChangePriority.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { ActionDetail } from '../../src/console/reads.js';
import { getJson, post, query } from './api.js';
import { StatusPill } from './actions.js';
import { duration, time } from './format.js';
import { useLiveRead } from './live.js';

/** Record fields the header already shows; the rest are listed as the ACI gives them. */
const SHOWN = new Set(['token', 'status', 'priority', 'attempts', 'progress']);

function Value({ value }: { value: unknown }) {
  if (typeof value === 'string') return <span class="pre">{value}</span>;
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function Detail({ token, version, onClose }: { token: string; version: number; onClose: () => void }) {
  const { data, error } = useLiveRead(`action${query({ Token: token })}`, version, (p) => getJson<ActionDetail>(p));
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [priority, setPriority] = useState('');

  const command = (action: string, extra: Record<string, string> = {}) => {
    if (!data) return;
    setMessage(undefined);
    post('queue', { queue: data.action.queue, action, token, ...extra }).then(
      () => setMessage(`${action}: done`),
      (e: Error) => setMessage(`${action}: ${e.message}`),
    );
  };

  const a = data?.action;
  const running = a?.status === 'Processing' || (a?.status === 'Paused' && a.startedAt !== undefined);
  const waiting = a?.status === 'Queued' || (a?.status === 'Paused' && a.startedAt === undefined);
  const record = (data?.record ?? {}) as Record<string, unknown>;

  return (
    <aside class="drawer" id="detail" data-token={token} data-status={a?.status ?? ''}>
      <header>
        <h2>Action</h2>
        <button class="btn ghost" onClick={onClose} aria-label="Close" data-command="close">✕</button>
      </header>
      <p class="mono token">{token}</p>
      {error ? <p class="error-banner">{error}</p> : null}
      {a ? (
        <>
          <div class="detail-head">
            <StatusPill status={a.status} />
            <span>{a.queue}</span>
            <span class="muted">priority {a.priority}</span>
            <span class="muted">attempt{a.attempts === 1 ? '' : 's'} {a.attempts}</span>
            {data?.owner ? <span class="muted">on {data.owner}</span> : null}
          </div>
          {data?.progress ? (
            <div class="progress wide" title={data.progress.stage ?? ''}>
              <span style={{ width: `${Math.round(data.progress.fraction * 100)}%` }} />
              <em>
                {Math.round(data.progress.fraction * 100)} %{data.progress.stage ? ` · ${data.progress.stage}` : ''}
              </em>
            </div>
          ) : null}
          <div class="actions-row">
            {waiting ? <button class="btn" onClick={() => command('Cancel')} data-command="cancel">Cancel</button> : null}
            {running ? <button class="btn danger" onClick={() => command('Stop')} data-command="stop">Stop</button> : null}
            {a.status === 'Processing' || a.status === 'Queued' ? <button class="btn" onClick={() => command('Pause')} data-command="pause-action">Pause</button> : null}
            {a.status === 'Paused' ? <button class="btn" onClick={() => command('Resume')} data-command="resume-action">Resume</button> : null}
            {waiting ? (
              <form
                class="inline"
                onSubmit={(e) => {
                  e.preventDefault();
                  command('ChangePriority', { priority });
                }}
              >
                <input type="number" placeholder={String(a.priority)} value={priority} onInput={(e) => setPriority(e.currentTarget.value)} name="priority" />
                <button class="btn" type="submit" data-command="change-priority">Set priority</button>
              </form>
            ) : null}
          </div>
          {message ? <p class="note" data-message>{message}</p> : null}
          <h3>Times</h3>
          <dl class="kv">
            <dt>Queued</dt>
            <dd>{time(a.queuedAt)}</dd>
            <dt>Started</dt>
            <dd>{time(a.startedAt)}</dd>
            <dt>Ended</dt>
            <dd>{time(a.endedAt)}</dd>
            <dt>Ran</dt>
            <dd>{a.startedAt !== undefined ? duration((a.endedAt ?? Date.now()) - a.startedAt) : ''}</dd>
          </dl>
          <h3>Parameters</h3>
          <dl class="kv">
            {data!.params.length === 0 ? <dd class="muted">none</dd> : null}
            {data!.params.map(([k, v], i) => (
              <Fragment key={i}>
                <dt>{k}</dt>
                <dd class="pre">{v}</dd>
              </Fragment>
            ))}
          </dl>
          <h3>Record</h3>
          <dl class="kv record">
            {Object.entries(record)
              .filter(([k]) => !SHOWN.has(k))
              .map(([k, v]) => (
                <Fragment key={k}>
                  <dt>{k}</dt>
                  <dd>
                    <Value value={v} />
                  </dd>
                </Fragment>
              ))}
          </dl>
          <h3>Events</h3>
          <table class="list compact" id="detail-events">
            <thead>
              <tr>
                <th>Type</th>
                <th>Handler</th>
                <th>State</th>
                <th class="num">Failed tries</th>
                <th>Delivered</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {data!.events.map((e) => (
                <tr key={`${e.seq}`} data-event-id={e.id} data-handler={e.handler} data-state={e.state}>
                  <td>{e.type}</td>
                  <td>{e.handler}</td>
                  <td>
                    <span class={`pill e-${e.state}`}>{e.state}</span>
                  </td>
                  <td class="num">{e.attempts}</td>
                  <td>{e.deliveredAt !== undefined ? `${time(e.deliveredAt)} (+${duration(e.deliveredAt - e.createdAt)})` : ''}</td>
                  <td class="error-text" title={e.lastError}>{e.lastError ?? ''}</td>
                </tr>
              ))}
              {data!.events.length === 0 ? (
                <tr class="empty">
                  <td colSpan={6}>No events (no handler is configured for this action's changes, or they were purged).</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </>
      ) : null}
    </aside>
  );
}
