/** An action's record as QueueInfo GetStatus returns it over simplejson. */
import type { ActionStatus } from '../queue/record.js';

export interface ActionStatusRecord extends Record<string, unknown> {
  readonly token: string;
  readonly status: ActionStatus;
  /** While it runs, if the action reports progress. */
  readonly progress?: { readonly percent: number | string; readonly stage?: string };
  /** Why it ended in Error. */
  readonly error?: string;
}
