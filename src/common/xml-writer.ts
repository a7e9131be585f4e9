/** Compact XML output for ACI responses and event documents. */
import type { XElement } from './xnode.js';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Tab and LF only in attributes: a literal one there is turned into a space by the reader (XML
  // 1.0 §3.3.3, attribute-value normalisation), a character reference is kept. CR everywhere: a
  // reader turns a literal CR (and CR LF) in text into LF (§2.11), so `a\rb` would read back as
  // `a\nb` (found by test/fuzz/event-documents.test.ts).
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * Anything outside the XML 1.0 `Char` production (§2.2): C0 controls other than tab/LF/CR, lone
 * surrogates, U+FFFE and U+FFFF. No XML reader accepts these even as references, so they are dropped:
 * a command's output with a stray BEL (U+0007) must not make the whole response unreadable.
 */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/** Quick test for "needs work" so that plain text (the usual case) is returned as is. */
const NEEDS_WORK = /[&<>"'\x00-\x08\x0B-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const ATTR_WHITESPACE = /[\t\n\r]/;
const TEXT_SPECIALS = /[&<>"'\r]/g;
const ATTR_SPECIALS = /[&<>"'\t\n\r]/g;

const replaceEntity = (c: string): string => ENTITIES[c] ?? c;

/** Escapes `& < > " '` and CR, and removes characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return text.replace(NOT_XML_CHAR, '').replace(TEXT_SPECIALS, replaceEntity);
}

/** As escapeXml, and also keeps tab, CR and LF in attribute values through a parser's normalisation. */
function escapeAttr(text: string): string {
  if (!NEEDS_WORK.test(text) && !ATTR_WHITESPACE.test(text)) return text;
  return text.replace(NOT_XML_CHAR, '').replace(ATTR_SPECIALS, replaceEntity);
}

/** Options of renderXml. */
export interface RenderOptions {
  /**
   * Write CR and LF in text as `&#13;` / `&#10;` (they read back the same): keeps a document on
   * one line, as TextFileHandler's "document and a newline" needs.
   */
  readonly oneLine?: boolean;
}

const NEWLINES = /[\r\n]/g;
const newlineRef = (c: string): string => (c === '\n' ? '&#10;' : '&#13;');

/**
 * Renders an element tree with no whitespace between elements. Element names are trusted (set by
 * code). Built by string concatenation: measured twice as fast as collecting parts and joining.
 */
export function renderXml(node: XElement, options: RenderOptions = {}): string {
  return write(node, options.oneLine === true);
}

function write(node: XElement, oneLine: boolean): string {
  let out = '<' + node.name;
  if (node.attrs) {
    for (const name in node.attrs) out += ' ' + name + '="' + escapeAttr(node.attrs[name]!) + '"';
  }
  const children = node.children;
  if (children && children.length > 0) {
    out += '>';
    for (const child of children) out += write(child, oneLine);
    return out + '</' + node.name + '>';
  }
  if (node.text === undefined || node.text === '') return out + '/>';
  return out + '>' + escapeText(node.text, oneLine) + '</' + node.name + '>';
}

function escapeText(text: string, oneLine: boolean): string {
  const escaped = escapeXml(text);
  return oneLine && (escaped.includes('\n') || escaped.includes('\r')) ? escaped.replace(NEWLINES, newlineRef) : escaped;
}

/**
 * `<name>text</name>` (or `<name/>` for empty text), exactly as renderXml writes a text element:
 * for callers that write a fixed layout straight to a string (event documents, per event).
 */
export function renderTextElement(name: string, text: string, options: RenderOptions = {}): string {
  const tag = tagsOf(name);
  return text === '' ? tag.empty : tag.open + escapeText(text, options.oneLine === true) + tag.close;
}

/**
 * As renderTextElement, for text made by code that holds no character XML must escape (digits,
 * formatted times, fixed names): no scan. An event document has a dozen such elements.
 */
export function renderPlainElement(name: string, text: string): string {
  const tag = tagsOf(name);
  return text === '' ? tag.empty : tag.open + text + tag.close;
}

interface Tags {
  readonly open: string;
  readonly close: string;
  readonly empty: string;
}

// Element names come from code (a few dozen), so the tags of each are made once: renderTextElement
// runs a dozen times per event document.
const tagCache = new Map<string, Tags>();

function tagsOf(name: string): Tags {
  let tags = tagCache.get(name);
  if (tags === undefined) {
    tags = { open: `<${name}>`, close: `</${name}>`, empty: `<${name}/>` };
    tagCache.set(name, tags);
  }
  return tags;
}
