/**
 * The client as the CLI verbs (and earlier library users) import it; it lives in src/client.
 */
export { AciClient, type ActionStatusRecord, type CallOptions, type Submission, type SubmitOptions } from '../client/aci-client.js';
export { AciClientError, type AciErrorInfo } from '../client/errors.js';
