/** The queues: counts and limits per queue, Pause / Resume, and the throughput chart. */
import { useState } from 'preact/hooks';
import type { QueueView, Snapshot } from '../../src/console/snapshot.js';
import { post } from './api.js';
import { ThroughputChart } from './chart.js';
import { count } from './format.js';

function Stat({ label, value, tone }: { label: string; value: number; tone?: string }) {
  return (
    <div class={`stat ${tone ?? ''}`} data-stat={label}>
      <span class="value">{count(value)}</span>
      <span class="label">{label}</span>
    </div>
  );
}

function QueueCard({ q, onError }: { q: QueueView; onError: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  const toggle = () => {
    setBusy(true);
    post('queue', { queue: q.name, action: q.paused ? 'Resume' : 'Pause' })
      .catch((e: Error) => onError(`${q.name}: ${e.message}`))
      .finally(() => setBusy(false));
  };
  const fill = q.maxQueueSize > 0 ? Math.min(1, q.queued / q.maxQueueSize) : 0;
  return (
    <article class={`card queue ${q.paused ? 'is-paused' : ''}`} data-queue={q.name} data-paused={String(q.paused)}>
      <header>
        <h3>{q.name}</h3>
        {q.paused ? <span class="badge amber">paused</span> : <span class="badge green">running</span>}
        <button class={`btn ${q.paused ? 'primary' : ''}`} disabled={busy} onClick={toggle} data-command={q.paused ? 'resume' : 'pause'}>
          {q.paused ? 'Resume' : 'Pause'}
        </button>
      </header>
      <div class="stats">
        <Stat label="waiting" value={q.queued} />
        <Stat label="running" value={q.processing} tone="blue" />
        <Stat label="paused" value={q.pausedActions} tone="amber" />
        <Stat label="finished" value={q.finished} tone="green" />
        <Stat label="error" value={q.error} tone={q.error > 0 ? 'red' : ''} />
      </div>
      <div class="capacity" title={`${q.queued} of MaximumQueueSize ${q.maxQueueSize} waiting`}>
        <div class="bar" style={{ width: `${(fill * 100).toFixed(1)}%` }} />
      </div>
      <footer>
        <span>
          {q.maxThreads} thread{q.maxThreads === 1 ? '' : 's'} · queue limit {count(q.maxQueueSize)}
        </span>
        <span class="muted">
          {count(q.cancelled)} cancelled · {count(q.stopped)} stopped
        </span>
      </footer>
    </article>
  );
}

export function Queues({ snapshot, onError }: { snapshot: Snapshot; onError: (message: string) => void }) {
  return (
    <section class="panel" id="queues">
      <h2>Queues</h2>
      <div class="queue-grid">
        {snapshot.queues.map((q) => (
          <QueueCard key={q.name} q={q} onError={onError} />
        ))}
      </div>
      <div class="card chart-card">
        <h3>
          Throughput <span class="muted">last 5 minutes, actions per second ended on this node</span>
        </h3>
        <ThroughputChart series={snapshot.throughput} />
      </div>
    </section>
  );
}
