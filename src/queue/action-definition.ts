/**
 * The public API for defining asynchronous actions (decisions.md "Library use"): parameters
 * checked at submission, progress reports, a stop signal, pausing, and non-fatal error reports
 * that raise OnErrorReport.
 */
import type { Logger } from '../common/logger.js';
import type { XElement } from '../common/xnode.js';

/** Case-insensitive read access to request parameters (names keep the case they were sent in). */
export interface ParamReader {
  get(name: string): string | undefined;
  has(name: string): boolean;
  entries(): readonly (readonly [string, string])[];
  toRecord(): Record<string, string>;
}

export interface ActionContext {
  readonly token: string;
  readonly queue: string;
  readonly params: ParamReader;
  /** 1 on the first run; more after a crash recovery. */
  readonly attempt: number;
  /** Aborted when QueueInfo `Stop` asks this action to stop, or the server shuts down. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Report progress, 0..1, optionally naming the current stage (QueueInfo `progress`). */
  progress(fraction: number, stage?: string): void;
  /** A non-fatal error: the action carries on, and OnErrorReport fires. */
  reportError(message: string): void;
  /**
   * Resolves at once unless the action is paused (QueueInfo `pause`), then when it is resumed.
   * Rejects when the action is stopped. Long-running actions call it between steps.
   */
  checkpoint(): Promise<void>;
}

/** What a run returns: elements shown inside the action's `<action>` record. */
export interface ActionOutput {
  readonly result?: readonly XElement[];
}

export interface AsyncActionDefinition {
  /** The action name; also the queue name. Matched without regard to case. */
  readonly name: string;
  /** Check the parameters at submission; throw a TocsinError (PARAM_MISSING / PARAM_INVALID). */
  validate?(params: ParamReader): void;
  run(context: ActionContext): Promise<ActionOutput | void>;
}

/**
 * Throw from `run` to end in `Error` with result elements too (e.g. a command's stderr tail).
 */
export class ActionFailure extends Error {
  readonly result?: readonly XElement[];
  constructor(message: string, result?: readonly XElement[]) {
    super(message);
    this.name = 'ActionFailure';
    if (result) this.result = result;
  }
}
