/**
 * `parse_xml(xml)` for scripts, run inside the worker with fast-xml-parser (dependencies.md §6: the
 * fastest parser measured, and it rejects external entities).
 *
 * Shape handed to Lua (examples/lua/README.md documents it for script authors):
 * - the result has one key, the root element: `parse_xml(xml).event.action.status`;
 * - an element holding only text is that text (a string, never converted to a number: tokens and
 *   ids must survive intact); an empty element is "";
 * - an element that repeats becomes a sequence, `t.actions.action[1]`;
 * - attributes go in a table under `_attr`; an element with attributes or children keeps its own
 *   text under `_text`.
 *
 * A document with a DOCTYPE is refused outright: entity declarations are how XML bombs and external
 * entity reads are built, and event documents never need one.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { PlainValue } from './lua-values.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '_attr',
  textNodeName: '_text',
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

const DOCTYPE = /<!DOCTYPE|<!ENTITY/i;

/** The parsed document, or an error message (the caller raises it as a Lua error). */
export function parseXml(xml: string): { ok: true; value: PlainValue } | { ok: false; error: string } {
  if (DOCTYPE.test(xml)) return { ok: false, error: 'DOCTYPE and ENTITY declarations are not allowed' };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    return { ok: false, error: `line ${line}, column ${col}: ${msg}` };
  }
  try {
    return { ok: true, value: parser.parse(xml) as PlainValue };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}
