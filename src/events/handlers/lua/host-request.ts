/**
 * Worker side of a synchronous request to the host (`send` from a script). Lua calls `send` and
 * expects an answer before its next statement, but the host's `context.send` is asynchronous; so the
 * worker posts the request and sleeps in Atomics.wait until the host has posted the reply on the
 * reply port and raised the flag. The worker's event loop is stopped meanwhile, which is why the reply
 * is taken with receiveMessageOnPort rather than a listener.
 *
 * The wait never outlasts the script's deadline: past it the request counts as timed out, and a reply
 * that comes later is recognised by its id and dropped.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { REPLY_FLAG, preciseNow, type SendReply } from './protocol.js';

export interface HostRequester {
  /** The reply, or undefined when `deadline` (preciseNow() ms) passed first. */
  request(post: (id: number) => void, deadline: number): SendReply | undefined;
}

export function createHostRequester(port: MessagePort, state: Int32Array): HostRequester {
  let nextId = 0;

  function take(id: number): SendReply | undefined {
    for (;;) {
      const received = receiveMessageOnPort(port);
      if (received === undefined) return undefined;
      const reply = received.message as SendReply;
      if (reply.id === id) return reply;
      // An older request's reply, which arrived after that request gave up: drop it.
    }
  }

  return {
    request(post, deadline) {
      const id = ++nextId;
      Atomics.store(state, REPLY_FLAG, 0);
      post(id);
      for (;;) {
        const reply = take(id);
        if (reply) return reply;
        const remaining = deadline - preciseNow();
        if (remaining <= 0) return undefined;
        Atomics.wait(state, REPLY_FLAG, 0, remaining);
        Atomics.store(state, REPLY_FLAG, 0);
      }
    },
  };
}
