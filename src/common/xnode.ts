/**
 * A small element tree: the one shape in which responses, action records and action results are
 * built, so that the same data renders to XML, JSON and simplejson (idol-reference.md §9.2).
 */
export interface XElement {
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string>>;
  /** Text content, or child elements; never both. */
  readonly text?: string;
  readonly children?: readonly XElement[];
  /**
   * The element can occur more than once under its parent (e.g. `action` under `actions`).
   * simplejson renders such elements as arrays even when there is only one.
   */
  readonly repeats?: boolean;
}

/** Element with text (numbers and booleans are turned into text). */
export function el(name: string, text: string | number | boolean): XElement {
  return { name, text: String(text) };
}

/** Element with children. */
export function parent(name: string, children: readonly XElement[], attrs?: Record<string, string>): XElement {
  return attrs ? { name, children, attrs } : { name, children };
}

/** Mark an element as one that may repeat under its parent. */
export function repeating(node: XElement): XElement {
  return { ...node, repeats: true };
}
