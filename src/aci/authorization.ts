/**
 * Who may run what (idol-reference.md §9.4). Without `[AuthorizationRoles]`, loopback clients may
 * run everything and other clients only Query, Index and ServiceStatus actions. Once roles are
 * configured, a client has exactly the roles whose `Clients` match its address.
 */
import type { RoleSettings } from '../config/settings.js';
import type { Role } from './action-table.js';

export type Authorizer = (client: string, action: string, role: Role) => boolean;

const PUBLIC_ROLES: ReadonlySet<Role> = new Set(['query', 'index', 'servicestatus']);

/** `::ffff:127.0.0.1` → `127.0.0.1`, so patterns written for IPv4 match IPv4-mapped addresses. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function isLoopback(address: string): boolean {
  const a = normaliseAddress(address);
  return a === '::1' || a.startsWith('127.');
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

export function createAuthorizer(roles: readonly RoleSettings[]): Authorizer {
  if (roles.length === 0) {
    return (client, _action, role) => PUBLIC_ROLES.has(role) || isLoopback(client);
  }
  const compiled = roles.map((r) => ({ ...r, patterns: r.clients.map(globToRegExp) }));
  return (client, action, role) => {
    const address = normaliseAddress(client);
    return compiled.some(
      (r) =>
        r.patterns.some((p) => p.test(address)) &&
        (r.standardRoles.has('*') || r.standardRoles.has(role) || r.actions.has(action.toLowerCase())),
    );
  };
}
