/**
 * Command actions (decisions.md): a config section `[Name] Type=Command` runs `Command` with
 * `Arguments`, `%Param%` replaced by the request's parameters, never through a shell.
 * Exit 0 → Finished with stdout's tail in `<output>`; non-zero exit, timeout or spawn error →
 * Error with the reason and stderr's tail. QueueAction=Stop ends the process: SIGTERM, then SIGKILL.
 */
import { spawn } from 'node:child_process';
import { TocsinError } from '../common/errors.js';
import { el, type XElement } from '../common/xnode.js';
import type { CommandActionSettings } from '../config/settings.js';
import { ActionFailure, type AsyncActionDefinition, type ParamReader } from '../queue/action-definition.js';
import { OutputTail } from './output-tail.js';
import { MAX_TIMER_MS } from '../common/timers.js';

/** Time between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3000;
const PLACEHOLDER = /%([^%]*)%/g;

/** Replace `%Param%` (case-insensitive) in each argument; `%%` is a literal `%`. */
export function expandArguments(args: readonly string[], params: ParamReader, action: string): string[] {
  return args.map((arg) =>
    arg.replace(PLACEHOLDER, (_m, name: string) => {
      if (name === '') return '%';
      const value = params.get(name);
      if (value === undefined) throw new TocsinError('PARAM_MISSING', `The ${action} action needs the ${name} parameter (its Arguments use %${name}%)`);
      return value;
    }),
  );
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(settings: CommandActionSettings, args: string[], abort: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(settings.command, args, { cwd: settings.workingDirectory, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = new OutputTail(settings.outputTailBytes);
    const stderr = new OutputTail(settings.outputTailBytes);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const terminate = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    // A Timeout past what a Node timer can wait (~24.8 days) is left unarmed rather than firing at once.
    const timeout = settings.timeoutMs <= MAX_TIMER_MS ? setTimeout(() => ((timedOut = true), terminate()), settings.timeoutMs) : undefined;
    abort.addEventListener('abort', terminate, { once: true });
    child.on('error', (e) => {
      clearTimeout(timeout);
      abort.removeEventListener('abort', terminate);
      reject(new ActionFailure(`${settings.name}: cannot start ${settings.command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      abort.removeEventListener('abort', terminate);
      resolve({ code, signal, timedOut, stdout: stdout.text(), stderr: stderr.text() });
    });
  });
}

export function commandAction(settings: CommandActionSettings): AsyncActionDefinition {
  return {
    name: settings.name,
    validate(params) {
      expandArguments(settings.arguments, params, settings.name);
    },
    async run(ctx) {
      const args = expandArguments(settings.arguments, ctx.params, settings.name);
      const r = await runProcess(settings, args, ctx.signal);
      const result: XElement[] = [el('output', r.stdout)];
      if (r.code !== null) result.push(el('exit_code', r.code));
      if (ctx.signal.aborted) throw new ActionFailure(`${settings.name}: stopped`, result);
      if (r.code === 0) return { result };
      const reason = r.timedOut
        ? `timed out after ${settings.timeoutMs / 1000} s (Timeout) and was killed`
        : r.code !== null
          ? `exited with status ${r.code}`
          : `was killed by ${r.signal}`;
      throw new ActionFailure(`${settings.name}: ${settings.command} ${reason}${r.stderr ? `\n${r.stderr}` : ''}`, result);
    },
  };
}
