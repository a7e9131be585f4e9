/**
 * Text from a config file as it may appear in a message. A config can be any file (a binary one by
 * mistake, or a hostile one), and its problems go to a terminal and to logs: control characters are
 * shown escaped, so none can clear the screen, move the cursor or forge a line of output, and a long
 * name is cut, so a 10 MB key does not make a 10 MB message (issue 18: it did, taking 7.5 s).
 */

/** Longest section or key name shown whole; longer ones are cut and their length given. */
export const MAX_SHOWN_NAME = 80;
/** Longest message shown whole (a Lua error with its path, a list of choices fit easily). */
export const MAX_SHOWN_MESSAGE = 1000;

/**
 * C0 and C1 controls, DEL, and the Unicode format characters that reorder or break text on a
 * terminal (bidirectional overrides and isolates, line and paragraph separators).
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** `\t`, `\n`, `\r`, `\x1B`, `\u202E`: each control character as an escape. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

/** The first `max` characters (never half a surrogate pair) and the full length, or all of it. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}... (${text.length} characters)`;
}

/** A section or key name for a message: cut to MAX_SHOWN_NAME, controls escaped. */
export function showName(name: string): string {
  return escapeControls(cut(name, MAX_SHOWN_NAME));
}

/** Any message text about a config: cut to MAX_SHOWN_MESSAGE, controls escaped. */
export function showMessage(text: string): string {
  return escapeControls(cut(text, MAX_SHOWN_MESSAGE));
}
