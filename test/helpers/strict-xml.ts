/**
 * A strict XML reader for tests: saxes checks well-formedness as the XML 1.0 spec defines it
 * (every character against the `Char` production, names, entities, nesting), where the lenient
 * parser of the ACI helpers reads almost anything. Returns a small element tree, or throws with
 * saxes' own message (line and column).
 */
import { SaxesParser } from 'saxes';

export interface XmlNode {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlNode[];
  /** Text directly inside this element (CDATA included), concatenated. */
  text: string;
}

export function parseStrictXml(text: string): XmlNode {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  let failure: Error | undefined;
  parser.on('error', (e) => {
    failure ??= e;
  });
  parser.on('opentag', (tag) => {
    const node: XmlNode = { name: tag.name, attrs: { ...(tag.attributes as Record<string, string>) }, children: [], text: '' };
    const top = stack.at(-1);
    if (top) top.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on('closetag', () => void stack.pop());
  const addText = (t: string): void => {
    const top = stack.at(-1);
    if (top) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.write(text).close();
  if (failure) throw failure;
  if (!root) throw new Error('no root element');
  return root;
}

/** The child element `name` of `node`, which must exist. */
export function child(node: XmlNode, name: string): XmlNode {
  const found = node.children.find((c) => c.name === name);
  if (!found) throw new Error(`<${node.name}> has no <${name}>: ${node.children.map((c) => c.name).join(', ')}`);
  return found;
}
