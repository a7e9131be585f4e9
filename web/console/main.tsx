/** The Tocsin web console: queues, actions and deliveries, live by Server-Sent Events. */
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CHANGED_EVENT } from './api.js';
import { Actions } from './actions.js';
import { Deliveries } from './deliveries.js';
import { Detail } from './detail.js';
import { useLiveFeed } from './live.js';
import { Queues } from './queues.js';

const CONNECTION_TEXT = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' } as const;

function App() {
  const live = useLiveFeed();
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  // Commands made here bump the version at once; the live feed's snapshots bump it for everyone.
  const [local, setLocal] = useState(0);
  useEffect(() => {
    const bump = () => setLocal((n) => n + 1);
    window.addEventListener(CHANGED_EVENT, bump);
    return () => window.removeEventListener(CHANGED_EVENT, bump);
  }, []);
  // A tab in the background re-reads nothing (each list read sorts the store's rows of a queue);
  // it catches up once it is shown again.
  const [hidden, setHidden] = useState(document.hidden);
  useEffect(() => {
    const seen = () => setHidden(document.hidden);
    document.addEventListener('visibilitychange', seen);
    return () => document.removeEventListener('visibilitychange', seen);
  }, []);
  const shown = useRef(0);
  if (!hidden) shown.current = live.version + local;
  const version = shown.current;
  const snapshot = live.snapshot;
  return (
    <div class={`layout ${selected ? 'with-drawer' : ''}`}>
      <header class="top">
        <h1>
          <span class="logo" aria-hidden="true">◉</span> Tocsin
        </h1>
        {snapshot ? <span class="muted">node {snapshot.node}</span> : null}
        <span class="spacer" />
        <span class={`conn ${live.connection}`} data-connection={live.connection}>
          <i /> {CONNECTION_TEXT[live.connection]}
        </span>
      </header>
      {problem ? (
        <p class="error-banner top-banner" onClick={() => setProblem(undefined)} data-problem>
          {problem} <span class="muted">(click to dismiss)</span>
        </p>
      ) : null}
      <main>
        {snapshot ? (
          <>
            <Queues snapshot={snapshot} onError={setProblem} />
            <Actions queues={snapshot.queues.map((q) => q.name)} version={version} selected={selected} onOpen={setSelected} />
            <Deliveries handlers={snapshot.handlers} version={version} onOpen={setSelected} onError={setProblem} />
          </>
        ) : (
          <p class="boot">Connecting to the server…</p>
        )}
      </main>
      {selected ? <Detail token={selected} version={version} onClose={() => setSelected(undefined)} /> : null}
    </div>
  );
}

const root = document.getElementById('app')!;
// The boot message is plain HTML, not Preact's: clear it rather than render beside it.
root.textContent = '';
render(<App />, root);
