/**
 * The config of a real `tocsin serve` child in the fault tests (test/faults/, test/events/crash):
 * its store in `dataDirectory`, no shutdown grace (a kill or stop never waits for Sleeps), warn
 * logs, test actions on; then the test's own `[Actions]` keys and handler sections. One place, so a
 * key every such server needs is added once.
 */
import { writeConfig } from './server.js';

export type Keys = Readonly<Record<string, string | number | boolean>>;

export interface FaultServerConfig {
  readonly dataDirectory: string;
  /** `[Actions]` keys besides EnableTestActions=true (MaximumThreads, OnStart, Durability, ...). */
  readonly actions: Keys;
  /** Handler sections by name, each with its keys. */
  readonly sections?: Readonly<Record<string, Keys>>;
}

/** `[name]` and its `key=value` lines. */
export function section(name: string, keys: Keys): string {
  return `[${name}]\n${Object.entries(keys).map(([k, v]) => `${k}=${v}\n`).join('')}`;
}

export function faultServerConfigText(c: FaultServerConfig): string {
  return [
    section('Server', { DataDirectory: c.dataDirectory, ShutdownGrace: 0, LogLevel: 'warn' }),
    section('Actions', { EnableTestActions: true, ...c.actions }),
    ...Object.entries(c.sections ?? {}).map(([name, keys]) => section(name, keys)),
  ].join('\n');
}

/** Writes `dir/tocsin.cfg`; returns its path. */
export function writeFaultServerConfig(dir: string, c: FaultServerConfig): string {
  return writeConfig(dir, faultServerConfigText(c));
}
