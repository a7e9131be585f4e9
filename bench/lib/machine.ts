/**
 * The facts a reader needs to compare figures between machines, printed before any figure.
 */
import { cpus, loadavg, totalmem, platform, release } from 'node:os';

export function machineFacts(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown cpu';
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${list.length} cpus (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, ${platform()} ${release()}, node ${process.version}, load ${load}`;
}
