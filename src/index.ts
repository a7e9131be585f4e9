/**
 * Tocsin's public library API: start the server in-process with your own asynchronous actions and
 * handler libraries, talk to a server as a client, and verify signed webhooks as a receiver.
 */
export { startServer, type StartOptions, type RunningServer } from './server.js';
export {
  ActionFailure,
  type ActionContext,
  type ActionOutput,
  type AsyncActionDefinition,
  type ParamReader,
} from './queue/action-definition.js';
export type { ActionRecord, ActionStatus } from './queue/record.js';
export {
  DeliveryError,
  EVENT_TYPES,
  HandlerRegistry,
  type DeliveryPolicy,
  type EventDelivery,
  type EventHandler,
  type EventType,
  type HandlerContext,
  type HandlerFactory,
} from './events/handler.js';
export type { SectionReader } from './config/types.js';
export { verifyWebhookSignature } from './events/handlers/http/signing.js';
export { AciClient, type ActionStatusRecord, type CallOptions, type Submission, type SubmitOptions } from './client/aci-client.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js';
export type { SubmitOptions as SchedulerSubmitOptions, SubmittedAction } from './queue/scheduler.js';
export { WaitTimeoutError, type WaitOptions } from './client/wait.js';
export {
  AciClientError,
  AciRequestError,
  AciAccessDeniedError,
  AciNotFoundError,
  AciStateError,
  AciUnavailableError,
  AciServerError,
  type AciErrorInfo,
} from './client/errors.js';
export { createEventReceiver, type EventReceiver, type EventReceiverOptions, type ListeningReceiver } from './client/event-receiver.js';
export { parseEventDocument, type TocsinEvent, type ActionEvent, type QueueEvent } from './client/event.js';
export { TocsinMetrics } from './metrics/metrics.js';
export { TocsinError, ERROR_CATALOGUE, type ErrorCode } from './common/errors.js';
export { createLogger, silentLogger, type Logger } from './common/logger.js';
export { el, parent, repeating, type XElement } from './common/xnode.js';
