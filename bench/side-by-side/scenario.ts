/**
 * One scenario of the side-by-side benchmark: one workload on one system, run in a child process
 * of its own (lib/child.ts) so that each has its own heap, peak RSS and JIT state.
 */
import { startHttpSinkProcess } from '../lib/http-sink.js';
import { ceilings, type CeilingsResult } from './ceilings.js';
import { crash, type CrashResult } from './crash.js';
import { eventsToFile, type EventsToFileResult } from './events-to-file.js';
import type { Sizes } from './sizes.js';
import { scale, type ScaleResult } from './scale.js';
import { tocsinSubmission, type SubmissionResult } from './submission.js';
import { queueFactory, type SystemId } from './systems.js';
import { webhook, type WebhookResult } from './webhook.js';

export type Scenario =
  | { readonly workload: 'events-to-file' | 'webhook'; readonly system: SystemId; readonly sizes: Sizes }
  | { readonly workload: 'submission'; readonly system: 'tocsin'; readonly sizes: Sizes }
  | { readonly workload: 'scale'; readonly system: SystemId; readonly sizes: Sizes; readonly waiting: number }
  | { readonly workload: 'crash'; readonly system: SystemId; readonly sizes: Sizes }
  | { readonly workload: 'ceilings'; readonly sizes: Sizes };

export type ScenarioResult = EventsToFileResult | WebhookResult | SubmissionResult | ScaleResult | CrashResult | CeilingsResult;

/**
 * A scenario's watchdog, where the default (lib/child.ts, 180 s) is too short: a backlog of a
 * million jobs takes BullMQ ~100 s to add at ~10,000/s on our machines, and as long to remove.
 */
export function scenarioTimeoutMs(s: Scenario): number | undefined {
  return s.workload === 'scale' ? Math.max(180_000, s.waiting * 0.6) : undefined;
}

export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  if (s.workload === 'submission') return tocsinSubmission(s.sizes);
  if (s.workload === 'events-to-file' || s.workload === 'scale') {
    const { create, dispose } = await queueFactory(s.system);
    try {
      return s.workload === 'scale' ? await scale(create, s.sizes, s.waiting) : await eventsToFile(create, s.sizes);
    } finally {
      await dispose();
    }
  }
  const sink = await startHttpSinkProcess();
  try {
    if (s.workload === 'ceilings') return await ceilings(s.sizes, sink);
    if (s.workload === 'crash') return await crash(s.system, s.sizes, sink);
    const { create, dispose } = await queueFactory(s.system);
    try {
      return await webhook(create, s.sizes, sink);
    } finally {
      await dispose();
    }
  } finally {
    await sink.close();
  }
}
