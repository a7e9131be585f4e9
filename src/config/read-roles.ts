/**
 * `[AuthorizationRoles]` (idol-reference.md §9.4): numbered role sections, each with
 * `StandardRoles`, `Actions` and `Clients`.
 */
import type { ConfigDocument } from './types.js';
import type { TrackingSectionReader } from './section-reader.js';
import type { RoleSettings } from './settings.js';

export const STANDARD_ROLES = ['admin', 'query', 'index', 'servicecontrol', 'servicestatus'] as const;

export function readRoles(section: (name: string) => TrackingSectionReader, doc: ConfigDocument): RoleSettings[] {
  const list = doc.sections.get('authorizationroles');
  if (!list) return [];
  const r = section('AuthorizationRoles');
  const roles: RoleSettings[] = [];
  for (const entry of list.entries.values()) {
    if (!/^\d+$/.test(entry.key)) continue;
    r.markKnown(entry.key);
    const role = section(entry.value);
    if (!role.exists) {
      r.error(entry.key, `names the role section [${entry.value}], which does not exist`, 'CONFIG_REFERENCE');
      continue;
    }
    const standard = role.list('StandardRoles').map((s) => s.toLowerCase());
    for (const s of standard) {
      if (s !== '*' && !(STANDARD_ROLES as readonly string[]).includes(s)) {
        role.error('StandardRoles', `"${s}" is not a standard role (Admin, Query, Index, ServiceControl, ServiceStatus or *)`, 'CONFIG_VALUE');
      }
    }
    roles.push({
      name: role.name,
      standardRoles: new Set(standard),
      actions: new Set(role.list('Actions').map((a) => a.toLowerCase())),
      clients: role.list('Clients'),
    });
    role.finish();
  }
  r.markKnown('Number');
  r.finish();
  return roles;
}
