/**
 * The `actions` row as SQLite returns it (action-row.ts), and the start rows of claims.
 */

export { rowToRecord, type ActionRow } from '../action-row.js';

export { byClaimOrder, START_COLUMNS, startedRecord, type StartRow } from '../start-row.js';
