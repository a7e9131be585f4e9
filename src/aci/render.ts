/**
 * ACI responses in the three formats of idol-reference.md §9.2: the `autnresponse` envelope in
 * XML, in IDOL's `json` and in `simplejson`. Errors are ordinary responses with `<response>ERROR`;
 * the server sends them with HTTP 200, as IDOL does.
 */
import { TocsinError, type ErrorSpec } from '../common/errors.js';
import { el, parent, type XElement } from '../common/xnode.js';
import { formatErrorTime } from '../common/dates.js';
import { renderXml } from '../common/xml-writer.js';

export type ResponseFormat = 'xml' | 'json' | 'simplejson';

export interface RenderedResponse {
  readonly contentType: string;
  readonly body: string;
}

const FORMATS: readonly ResponseFormat[] = ['xml', 'json', 'simplejson'];
const XML_TYPE = 'application/xml; charset=UTF-8';
const JSON_TYPE = 'application/json; charset=UTF-8';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const ACI_NAMESPACE = 'http://schemas.autonomy.com/aci/';

/** The `ResponseFormat` parameter, matched without regard to case (IDOL docs write both `JSON` and `json`). */
export function parseResponseFormat(value: string | undefined): ResponseFormat {
  if (value === undefined || value === '') return 'xml';
  const lower = value.toLowerCase();
  const format = FORMATS.find((f) => f === lower);
  if (!format) throw new TocsinError('PARAM_INVALID', `ResponseFormat=${value} is not one of xml, json, simplejson`);
  return format;
}

export function renderSuccess(action: string, data: readonly XElement[], format: ResponseFormat): RenderedResponse {
  return render(envelope(action, 'SUCCESS', data), format);
}

export function renderError(action: string, error: TocsinError, format: ResponseFormat, now: Date = new Date()): RenderedResponse {
  return render(envelope(action, 'ERROR', [errorElement(action, error, now)]), format);
}

function envelope(action: string, response: 'SUCCESS' | 'ERROR', data: readonly XElement[]): XElement {
  return parent('autnresponse', [el('action', action.toUpperCase()), el('response', response), parent('responsedata', data)], {
    'xmlns:autn': ACI_NAMESPACE,
  });
}

/** The `<error>` block of idol-reference.md §9.2, e.g. errorid `TOCSINQUEUEINFO-202`, rawerrorid `0xCA`. */
function errorElement(action: string, error: TocsinError, now: Date): XElement {
  const spec: ErrorSpec = error.spec;
  // IDOL's own sample for an unknown action says just "ERROR" and "The requested action was not recognised".
  const unknown = error.code === 'ACTION_UNKNOWN';
  return parent('error', [
    el('errorid', `TOCSIN${action.toUpperCase()}-${spec.errorId}`),
    el('rawerrorid', `0x${spec.errorId.toString(16).toUpperCase()}`),
    el('errorstring', unknown ? 'ERROR' : spec.summary),
    el('errordescription', unknown ? `The requested action was not recognised: ${action}` : error.message),
    el('errorcode', spec.aciCode),
    el('errortime', formatErrorTime(now)),
  ]);
}

function render(root: XElement, format: ResponseFormat): RenderedResponse {
  if (format === 'xml') return { contentType: XML_TYPE, body: XML_DECLARATION + renderXml(root) };
  // The namespace declaration is XML syntax; IDOL's simplejson sample has none, so JSON leaves it out.
  const { attrs: _namespace, ...bare } = root;
  return { contentType: JSON_TYPE, body: JSON.stringify({ [root.name]: toJson(bare, format === 'simplejson') }) };
}

export type Json = string | JsonObject | Json[];
export interface JsonObject {
  [key: string]: Json;
}

/** One element as simplejson renders it (the web console shows records the way ACI clients see them). */
export function toSimpleJson(node: XElement): Json {
  return toJson(node, true);
}

/**
 * One rule for arrays in both JSON formats, taken from IDOL's samples (idol-reference.md §1, §9.2):
 * a client reads `autnresponse.responsedata.token.$` (a lone element is an object) and
 * `autnresponse.responsedata.actions.action[0].status.$` (`action` can repeat, so it is an array).
 * So: an element is an array of its occurrences when it is marked `repeats` or when several
 * same-named siblings occur; otherwise it is a single value. The formats differ only in the value:
 * - json: always an object; attributes `"@name"`, text under `"$"` (`{"$":"FETCH"}`); empty → `{}`.
 * - simplejson: a plain string for an element with only text (or nothing: `""`); with attributes,
 *   an object with `"@name"` keys and the text under `"$"`.
 * Same-named siblings are grouped under one key at the place of the first of them.
 */
function toJson(node: XElement, simple: boolean): Json {
  const children = node.children ?? [];
  const attrs = node.attrs ? Object.entries(node.attrs) : [];
  if (simple && children.length === 0 && attrs.length === 0) return node.text ?? '';
  // No prototype: an element or attribute called `__proto__` stays an ordinary key.
  const out = Object.create(null) as JsonObject;
  for (const [name, value] of attrs) out[`@${name}`] = value;
  if (node.text !== undefined && children.length === 0) out.$ = node.text;
  for (const [name, group] of groupByName(children)) {
    const values = group.map((child) => toJson(child, simple));
    out[name] = group.length > 1 || group.some((child) => child.repeats) ? values : (values[0] ?? '');
  }
  return out;
}

function groupByName(children: readonly XElement[]): Map<string, XElement[]> {
  const groups = new Map<string, XElement[]>();
  for (const child of children) {
    const group = groups.get(child.name);
    if (group) group.push(child);
    else groups.set(child.name, [child]);
  }
  return groups;
}
