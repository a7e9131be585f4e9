/**
 * ACI actions declared as data (STYLE.md lesson 9): name, the role a client needs, and a handler
 * that returns the `<responsedata>` children. Asynchronous actions are not listed here: the server
 * answers them all the same way (queue, then a token).
 */
import type { XElement } from '../common/xnode.js';
import type { AciParams } from './params.js';
import type { UploadedFile } from './request.js';

/** IDOL standard roles (idol-reference.md §9.4), lower case. */
export type Role = 'admin' | 'query' | 'index' | 'servicecontrol' | 'servicestatus';

export interface SyncActionRequest {
  /** The action name as the client sent it. */
  readonly action: string;
  readonly params: AciParams;
  readonly files: readonly UploadedFile[];
  /** Client IP address. */
  readonly client: string;
}

export interface SyncAction {
  readonly name: string;
  readonly role: Role;
  run(request: SyncActionRequest): Promise<readonly XElement[]>;
}

/** Case-insensitive lookup of synchronous actions. */
export class ActionTable {
  private readonly actions = new Map<string, SyncAction>();

  constructor(actions: readonly SyncAction[] = []) {
    for (const a of actions) this.add(a);
  }

  add(action: SyncAction): this {
    this.actions.set(action.name.toLowerCase(), action);
    return this;
  }

  get(name: string): SyncAction | undefined {
    return this.actions.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.actions.values()].map((a) => a.name);
  }
}
