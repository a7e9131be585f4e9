/** A read statement on the store's pool: `what` names it in errors. Its own module so both the reads and the action counts can take one without importing each other. */
export type Read = <R extends Record<string, unknown>>(what: string, text: string, values?: unknown[]) => Promise<R[]>;
