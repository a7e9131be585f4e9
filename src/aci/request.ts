/**
 * Turns an HTTP request into an ACI request: the action name, the other parameters and any
 * uploaded files (idol-reference.md §9.1). Rendering the answer is render.ts's job.
 */
import { isAscii } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { TocsinError, errorText } from '../common/errors.js';
import { AciParams } from './params.js';

export interface AciLimits {
  /** Longest query string, in characters (IDOL `MaxInputString`, default 64000). */
  readonly maxInputString: number;
  /** Largest POST body in bytes, files included. */
  readonly maxBodyBytes: number;
  /** Largest single uploaded file in bytes (IDOL `MaxFileUploadSize`, default 10000000). */
  readonly maxFileUploadSize: number;
  /** Most parameters (query, body fields and files together) of one request (`MaxParameters`, default 1000). */
  readonly maxParameters?: number;
}

export interface UploadedFile {
  readonly field: string;
  readonly filename: string;
  readonly data: Buffer;
}

export interface AciRequest {
  /** The action name as sent (the server matches it case-insensitively and echoes it upper-cased). */
  readonly action: string;
  /** Every parameter except `action`/`a`. */
  readonly params: AciParams;
  readonly method: 'GET' | 'POST';
  readonly files: readonly UploadedFile[];
}

type Pair = [string, string];
interface Body {
  pairs: Pair[];
  files: UploadedFile[];
}

export async function parseAciRequest(req: IncomingMessage, limits: AciLimits): Promise<AciRequest> {
  const method = req.method === 'GET' || req.method === 'POST' ? req.method : undefined;
  if (!method) throw new TocsinError('REQUEST_MALFORMED', `HTTP method ${req.method ?? '(none)'} is not supported; use GET or POST`);
  const query = pairString(req.url ?? '/');
  if (query.length > limits.maxInputString) {
    throw new TocsinError(
      'REQUEST_TOO_LARGE',
      `The query string has ${query.length} characters, more than MaxInputString=${limits.maxInputString}; send large values by POST`,
    );
  }
  const queryPairs = parsePairs(query, limits);
  // Body pairs come after the query's, so that get() (last value wins) lets the body win.
  const body: Body = method === 'POST' ? await readBody(req, limits, queryPairs.length) : { pairs: [], files: [] };
  return { ...splitAction(queryPairs, body.pairs), method, files: body.files };
}

function tooManyParameters(limits: AciLimits): TocsinError {
  return new TocsinError('REQUEST_TOO_LARGE', `The request has more than MaxParameters=${limits.maxParameters} parameters`);
}

function tooLong(name: string, limits: AciLimits): TocsinError {
  const shown = name.length > 60 ? `${name.slice(0, 60)}...` : name;
  return new TocsinError('REQUEST_TOO_LARGE', `Parameter ${shown} is longer than MaxInputString=${limits.maxInputString} characters`);
}

/**
 * The `name=value&...` part of a request URL. IDOL puts the pairs in the path
 * (`/action=Name&P=v`) or in the query (`/?action=Name`); we take both, so `/action=X?P=v` also works.
 * A path without `=` (e.g. `/aci`) is not pairs and is ignored. Split by hand: `new URL()` per
 * request cost 35% of the request's time.
 */
export function pairString(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(/^\/+/, '');
  const query = q < 0 ? '' : url.slice(q + 1);
  if (!path.includes('=')) return query;
  return query === '' ? path : `${path}&${query}`;
}

/**
 * Form-urlencoded pairs, percent-decoded with `+` as space; empty pieces (`&&`) are skipped.
 * With `limits`, more than MaxParameters pairs (counting `already` ones from elsewhere in the
 * request), or a name or value longer than MaxInputString characters, is REQUEST_TOO_LARGE. The
 * text is walked, not split: a 20 MB body of `&` would otherwise be an array of 20 million strings.
 */
export function parsePairs(text: string, limits?: AciLimits, already = 0): Pair[] {
  const pairs: Pair[] = [];
  const maxPairs = (limits?.maxParameters ?? Infinity) - already;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    const piece = text.slice(start, end);
    start = end + 1;
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const name = decodeComponent(rawName, rawName);
    if (name === '') continue;
    const value = eq < 0 ? '' : decodeComponent(piece.slice(eq + 1), name);
    if (limits && (name.length > limits.maxInputString || value.length > limits.maxInputString)) throw tooLong(name, limits);
    if (pairs.length >= maxPairs) throw tooManyParameters(limits!);
    pairs.push([name, value]);
  }
  return pairs;
}

function decodeComponent(raw: string, param: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw; // the common case: nothing to decode
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    const shown = raw.length > 60 ? `${raw.slice(0, 60)}...` : raw;
    // decodeURIComponent fails alike on a bad escape and on good escapes of bytes that are not
    // UTF-8 (`%FF`, a cut `%E2%82`); the client needs to know which mistake it made.
    if (/%(?![0-9A-Fa-f]{2})/.test(raw)) {
      throw new TocsinError('REQUEST_MALFORMED', `Parameter ${param} has a malformed percent-escape: ${shown}`);
    }
    throw new TocsinError('PARAM_NOT_UTF8', `Parameter ${param} is not valid UTF-8 (ACI names and values are UTF-8, then percent-encoded): ${shown}`);
  }
}

/**
 * A form body's text for parsePairs. Clients (curl -d) send non-ASCII characters raw rather than
 * percent-encoded; those bytes are written as `%XX` here, so decodeComponent checks their UTF-8
 * the same way as that of escapes, instead of a lenient decode turning bad bytes into U+FFFD.
 */
function formText(body: Buffer): string {
  if (isAscii(body)) return body.toString('latin1');
  let text = '';
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte < 0x80) continue;
    text += `${body.toString('latin1', start, i)}%${byte.toString(16).toUpperCase()}`;
    start = i + 1;
  }
  return text + body.toString('latin1', start);
}

/**
 * `action` (or its short form `a`) may come anywhere, though IDOL wants it first. A request naming
 * two different actions (`action=GetVersion&a=GetStatus`, or one in the query and another in a POST
 * body) is refused: running the last one, as we once did, hides the client's mistake, and which one
 * it meant cannot be known. The same name sent twice (in any case) is one action; empty values
 * name none.
 */
function splitAction(query: readonly Pair[], body: readonly Pair[]): { action: string; params: AciParams } {
  const named: { value: string; where: string }[] = [];
  const rest: Pair[] = [];
  const take = (pairs: readonly Pair[], place: string): void => {
    for (const pair of pairs) {
      const lower = pair[0].toLowerCase();
      if (lower !== 'action' && lower !== 'a') rest.push(pair);
      else if (pair[1].trim() !== '') named.push({ value: pair[1].trim(), where: `${pair[0]}= in the ${place}` });
    }
  };
  take(query, 'query');
  take(body, 'body');
  const last = named.at(-1);
  if (!last) throw new TocsinError('ACTION_MISSING', 'No action was given: send action=Name (or a=Name)');
  const distinct = named.filter((n, i) => named.findIndex((m) => m.value.toLowerCase() === n.value.toLowerCase()) === i);
  if (distinct.length > 1) {
    const names = distinct.map((n) => `${n.value.length > 60 ? `${n.value.slice(0, 60)}...` : n.value} (${n.where})`);
    throw new TocsinError(
      'ACTION_AMBIGUOUS',
      `The request names ${distinct.length} actions, ${names.slice(0, -1).join(', ')} and ${names.at(-1)}; send one action (or a) parameter`,
    );
  }
  return { action: last.value, params: new AciParams(rest) };
}

async function readBody(req: IncomingMessage, limits: AciLimits, already: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limits.maxBodyBytes) throw bodyTooLarge(limits, `${declared} bytes`);
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  // No content type: treat as form-urlencoded, which is what curl -d and most clients mean.
  if (type === '' || type === 'application/x-www-form-urlencoded') {
    const raw = await readLimited(req, limits);
    return { pairs: parsePairs(formText(raw), limits, already), files: [] };
  }
  if (type === 'multipart/form-data') return readMultipart(req, limits, already);
  throw new TocsinError(
    'REQUEST_MALFORMED',
    `Content-Type ${type} is not supported; send application/x-www-form-urlencoded or multipart/form-data`,
  );
}

function bodyTooLarge(limits: AciLimits, seen: string): TocsinError {
  return new TocsinError('REQUEST_TOO_LARGE', `The request body (${seen}) is larger than the limit of ${limits.maxBodyBytes} bytes`);
}

function readFailed(e: unknown): TocsinError {
  const text = e instanceof Error ? e.message : 'the connection closed early';
  return new TocsinError('REQUEST_MALFORMED', `The request body could not be read: ${text}`, { cause: e });
}

/**
 * Reads the whole body, but never holds more than maxBodyBytes. Past the limit we stop keeping
 * data and let the rest drain into nothing: the connection stays usable for the answer and for the
 * next keep-alive request, and memory stays bounded whatever the client sends.
 */
function readLimited(req: IncomingMessage, limits: AciLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limits.maxBodyBytes) return void chunks.push(chunk);
      done();
      req.resume();
      reject(bodyTooLarge(limits, `more than ${limits.maxBodyBytes} bytes`));
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (e?: unknown): void => {
      done();
      reject(readFailed(e));
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onError);
  });
}

/** multipart/form-data: fields become parameters, files are collected (each up to maxFileUploadSize). */
function readMultipart(req: IncomingMessage, limits: AciLimits, already: number): Promise<Body> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      defParamCharset: 'utf8', // file names from browsers and the Java client are UTF-8
      // busboy flags a part as over the limit when it *reaches* the limit, hence +1: a file of
      // exactly MaxFileUploadSize bytes is allowed.
      limits: {
        fileSize: limits.maxFileUploadSize + 1,
        fieldSize: limits.maxInputString + 1,
        // busboy emits 'partsLimit' when a part brings the count *to* `parts` (and skips later
        // ones), hence +1: the event means one part more than MaxParameters allows.
        parts: Math.max(0, (limits.maxParameters ?? Infinity) - already) + 1,
      },
    });
  } catch (e) {
    throw new TocsinError('REQUEST_MALFORMED', `The multipart/form-data body cannot be parsed: ${(e as Error).message}`);
  }
  return new Promise((resolve, reject) => {
    const body: Body = { pairs: [], files: [] };
    let size = 0;
    let settled = false;
    const fail = (err: TocsinError): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd);
      req.resume(); // drain the rest into nothing (see readLimited)
      parser.removeAllListeners().on('error', () => {});
      // Not synchronously: fail() can run inside busboy's own 'limit' emit, and busboy touches
      // the file stream after that emit returns (destroying first makes it throw).
      process.nextTick(() => parser.destroy());
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) return fail(bodyTooLarge(limits, `more than ${limits.maxBodyBytes} bytes`));
      // Backpressure by hand rather than pipe(), so the byte count is checked before busboy sees a chunk.
      // busboy emits 'field' and 'file' inside write(): whatever a listener throws comes out here,
      // and must become this request's error, not an uncaught exception that ends the process.
      let more: boolean;
      try {
        more = parser.write(chunk);
      } catch (e) {
        return fail(new TocsinError('REQUEST_MALFORMED', `The multipart/form-data body cannot be parsed: ${errorText(e)}`));
      }
      if (!more) {
        req.pause();
        parser.once('drain', () => req.resume());
      }
    };
    const onEnd = (): void => {
      try {
        parser.end();
      } catch (e) {
        fail(new TocsinError('REQUEST_MALFORMED', `The multipart/form-data body cannot be parsed: ${errorText(e)}`));
      }
    };
    req.on('data', onData).on('end', onEnd).on('error', (e) => fail(readFailed(e)));
    // A part with no name (busboy gives undefined) is skipped, as an empty name is in a form body
    // (found by test/fuzz/aci-requests.test.ts: it crashed the process).
    parser.on('field', (name: string | undefined, value, info) => {
      if (name === undefined || name === '') return;
      if (info.valueTruncated || name.length > limits.maxInputString) fail(tooLong(name, limits));
      else body.pairs.push([name, value]);
    });
    parser.on('partsLimit', () => fail(tooManyParameters(limits)));
    parser.on('file', (field: string | undefined, stream, info) => {
      if (field === undefined || field === '') {
        // Drained into nothing; a cut form then errors the stream, which must have a listener
        // (found by the nightly-size fuzz run: an uncaught 'Unexpected end of form').
        stream.on('error', () => {});
        return void stream.resume();
      }
      collectFile(field, info.filename ?? '', stream, limits, body, fail);
    });
    parser.on('error', (e) => fail(new TocsinError('REQUEST_MALFORMED', `The multipart/form-data body cannot be parsed: ${(e as Error).message}`)));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(body);
    });
  });
}

function collectFile(
  field: string,
  filename: string,
  stream: NodeJS.ReadableStream,
  limits: AciLimits,
  body: Body,
  fail: (err: TocsinError) => void,
): void {
  const chunks: Buffer[] = [];
  let tooLarge = false;
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A file stream errors when the form is cut short or we destroy the parser; the parser reports
  // that itself, and an 'error' without a listener would crash the process.
  stream.on('error', () => {});
  // busboy stops the file at fileSize and emits 'limit'; the part is an error, not a truncated file.
  stream.on('limit', () => {
    tooLarge = true;
    fail(
      new TocsinError(
        'REQUEST_TOO_LARGE',
        `File ${filename} in parameter ${field} is larger than MaxFileUploadSize=${limits.maxFileUploadSize} bytes`,
      ),
    );
  });
  stream.on('end', () => {
    if (!tooLarge) body.files.push({ field, filename, data: Buffer.concat(chunks) });
  });
}
