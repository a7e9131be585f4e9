/** Compact XML output for ACI responses and event documents. */
import type { XElement } from '../common/xnode.js';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Only used in attributes: a literal tab or newline there is turned into a space by the
  // reader (XML 1.0 §3.3.3, attribute-value normalisation), a character reference is kept.
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
const NEEDS_WORK = /[&<>"'\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const ATTR_WHITESPACE = /[\t\n\r]/;
const TEXT_SPECIALS = /[&<>"']/g;
const ATTR_SPECIALS = /[&<>"'\t\n\r]/g;

const replaceEntity = (c: string): string => ENTITIES[c] ?? c;

/** Escapes `& < > " '` and removes characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return text.replace(NOT_XML_CHAR, '').replace(TEXT_SPECIALS, replaceEntity);
}

/** As escapeXml, and also keeps tab, CR and LF in attribute values through a parser's normalisation. */
function escapeAttr(text: string): string {
  if (!NEEDS_WORK.test(text) && !ATTR_WHITESPACE.test(text)) return text;
  return text.replace(NOT_XML_CHAR, '').replace(ATTR_SPECIALS, replaceEntity);
}

/** Renders an element tree with no whitespace between elements. Element names are trusted (set by code). */
export function renderXml(node: XElement): string {
  const out: string[] = [];
  write(node, out);
  return out.join('');
}

function write(node: XElement, out: string[]): void {
  out.push('<', node.name);
  if (node.attrs) {
    for (const [name, value] of Object.entries(node.attrs)) out.push(' ', name, '="', escapeAttr(value), '"');
  }
  const children = node.children ?? [];
  if (children.length === 0 && (node.text === undefined || node.text === '')) {
    out.push('/>');
    return;
  }
  out.push('>');
  if (children.length > 0) for (const child of children) write(child, out);
  else out.push(escapeXml(node.text ?? ''));
  out.push('</', node.name, '>');
}
