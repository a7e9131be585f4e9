/**
 * A node's name in a shared store (decisions.md "Many machines"): `[Server] NodeName`, or by default
 * the host name and the port the server listens on. The default needs the real port, which the
 * settings cannot know when `Port=0` or `--port` chose it, so it is made here, after listen().
 */
import { hostname } from 'node:os';
import type { ServerSettings } from './settings.js';

export function nodeName(server: Pick<ServerSettings, 'nodeName'>, listeningPort: number): string {
  return server.nodeName ?? `${hostname()}:${listeningPort}`;
}
