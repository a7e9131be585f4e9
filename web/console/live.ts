/**
 * The live overview: one EventSource on /console/api/stream. Each snapshot bumps `version`, which
 * the lists on the page watch to re-read what they show (no polling of their own).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Snapshot } from '../../src/console/snapshot.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

export interface Live {
  readonly snapshot: Snapshot | undefined;
  readonly version: number;
  readonly connection: Connection;
}

export function useLiveFeed(): Live {
  const [live, setLive] = useState<Live>({ snapshot: undefined, version: 0, connection: 'connecting' });
  useEffect(() => {
    const source = new EventSource('/console/api/stream');
    source.addEventListener('snapshot', (e) => {
      const snapshot = JSON.parse((e as MessageEvent<string>).data) as Snapshot;
      setLive((l) => ({ snapshot, version: l.version + 1, connection: 'live' }));
    });
    source.onopen = () => setLive((l) => ({ ...l, connection: 'live' }));
    // The browser reconnects by itself (the server asks for 2 s); the page says so meanwhile.
    source.onerror = () => setLive((l) => ({ ...l, connection: 'reconnecting' }));
    return () => source.close();
  }, []);
  return live;
}

/**
 * Reads `path` now and again whenever `version` moves, one request at a time: a change during a
 * read asks for one more read after it, never a pile of them.
 */
export function useLiveRead<T>(path: string | undefined, version: number, read: (path: string) => Promise<T>): { data: T | undefined; error: string | undefined; loading: boolean } {
  const [state, setState] = useState<{ path: string | undefined; data: T | undefined; error: string | undefined; loading: boolean }>({ path: undefined, data: undefined, error: undefined, loading: false });
  const [guard] = useState(() => ({ busy: false, again: false, current: path }));
  guard.current = path;
  useEffect(() => {
    if (path === undefined) return;
    const run = (wanted: string) => {
      if (guard.busy) {
        guard.again = true;
        return;
      }
      guard.busy = true;
      setState((s) => ({ ...s, loading: true }));
      read(wanted).then(
        (data) => guard.current === wanted && setState({ path: wanted, data, error: undefined, loading: false }),
        (e: unknown) => guard.current === wanted && setState((s) => ({ ...s, path: wanted, error: (e as Error).message, loading: false })),
      ).finally(() => {
        guard.busy = false;
        if (guard.again && guard.current !== undefined) {
          guard.again = false;
          run(guard.current);
        }
      });
    };
    run(path);
  }, [path, version]);
  // Until the new path's answer comes, the last one stays on screen, dimmed (no flicker).
  return { data: state.data, error: state.error, loading: state.loading || state.path !== path };
}
