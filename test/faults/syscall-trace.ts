/**
 * Reads an `strace -f -yy` log of a server into the order of what matters for durability: writes
 * to the store's files, fsync/fdatasync of them, and answers written to the ACI port. A call split
 * across threads (`<unfinished ...>` ... `<... call resumed>`) counts, conservatively, as a write at
 * its start and as a sync at its end.
 */
export type TraceStep = (
  | { readonly kind: 'write'; readonly file: string }
  | { readonly kind: 'sync'; readonly file: string }
  | { readonly kind: 'answer'; readonly head: string }
) & { readonly line: number };

const WRITES = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);
const SYNCS = new Set(['fsync', 'fdatasync']);
// The fd's target may hold `->` (`TCP:[a:1->b:2]`): it ends at the `>` before `,`, `)` or ` <unfinished ...>`.
const START = /^(\d+)\s+(\w+)\((\d+)<(.*?)>([,) ].*)$/;
const RESUMED = /^(\d+)\s+<\.\.\. (\w+) resumed>/;

/** `isStore(path)`: the files whose durability counts; `port`: the ACI port. */
export function traceSteps(log: string, isStore: (path: string) => boolean, port: number): TraceStep[] {
  const steps: TraceStep[] = [];
  const pendingSync = new Map<string, string>();
  const aci = `TCP:[127.0.0.1:${port}->`;
  const lines = log.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const resumed = RESUMED.exec(line);
    if (resumed) {
      const file = pendingSync.get(resumed[1]!);
      if (file !== undefined && SYNCS.has(resumed[2]!) && / = 0\s*$/.test(line)) steps.push({ kind: 'sync', file, line: n + 1 });
      pendingSync.delete(resumed[1]!);
      continue;
    }
    const m = START.exec(line);
    if (!m) continue;
    const [, pid, call, , target, rest] = m as unknown as [string, string, string, string, string, string];
    const unfinished = rest.includes('<unfinished ...>');
    if (SYNCS.has(call) && isStore(target)) {
      if (unfinished) pendingSync.set(pid, target);
      else if (/ = 0\s*$/.test(rest)) steps.push({ kind: 'sync', file: target, line: n + 1 });
    } else if (WRITES.has(call) && isStore(target)) {
      steps.push({ kind: 'write', file: target, line: n + 1 });
    } else if (WRITES.has(call) && target.startsWith(aci)) {
      steps.push({ kind: 'answer', head: rest.slice(0, 80), line: n + 1 });
    }
  }
  return steps;
}

export interface AnswerAudit {
  readonly answers: number;
  /** Answers written while a store file held writes no sync had covered yet. */
  readonly unsynced: number;
  readonly syncs: number;
  /** The files left unsynced at such answers. */
  readonly dirtyFiles: string[];
}

/** For each answer: was every earlier write to a store file followed by a sync of that file? */
export function auditAnswers(steps: readonly TraceStep[]): AnswerAudit {
  const dirty = new Set<string>();
  let answers = 0;
  let unsynced = 0;
  let syncs = 0;
  const dirtyFiles = new Set<string>();
  for (const step of steps) {
    if (step.kind === 'write') dirty.add(step.file);
    else if (step.kind === 'sync') {
      syncs++;
      dirty.delete(step.file);
    } else {
      answers++;
      if (dirty.size > 0) unsynced++;
      for (const file of dirty) dirtyFiles.add(file);
    }
  }
  return { answers, unsynced, syncs, dirtyFiles: [...dirtyFiles] };
}
