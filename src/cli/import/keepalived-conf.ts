import { HaloError } from '../../errors.js';

/**
 * A small reader of keepalived.conf syntax (keepalived.conf(5)): one statement per line, a
 * keyword and its words; `#` and `!` start comments; "double quotes" keep spaces; a `{` opens
 * a block (on the same line or the next), `}` closes it. Hand-written because npm has no
 * maintained keepalived parser, and the syntax is line-based and small. Unknown keywords are
 * kept, so the importer can report each one.
 */

export interface ConfNode {
  key: string;
  args: string[];
  line: number;
  children?: ConfNode[];
}

function words(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
    } else if (ch === '#' || ch === '!') {
      break;
    } else if (ch === '{' || ch === '}') {
      out.push(ch);
      i++;
    } else if (ch === '"') {
      const end = line.indexOf('"', i + 1);
      const stop = end < 0 ? line.length : end;
      out.push(line.slice(i + 1, stop));
      i = stop + 1;
    } else {
      let j = i;
      while (j < line.length && !' \t\r{}"'.includes(line[j]!)) j++;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

export function parseKeepalivedConf(text: string, source: string): ConfNode[] {
  const root: ConfNode[] = [];
  const stack: ConfNode[][] = [root];
  let last: ConfNode | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    for (const w of splitStatements(words(raw))) {
      const current = stack.at(-1)!;
      if (w.length === 1 && w[0] === '}') {
        if (stack.length === 1)
          throw new HaloError('HALO_E_IMPORT', `${source}:${line}: "}" without a block to close`, {
            file: source,
          });
        stack.pop();
        last = undefined;
        continue;
      }
      if (w.length === 1 && w[0] === '{') {
        if (!last)
          throw new HaloError('HALO_E_IMPORT', `${source}:${line}: "{" without a keyword before it`, {
            file: source,
          });
        last.children = [];
        stack.push(last.children);
        last = undefined;
        continue;
      }
      const opens = w.at(-1) === '{';
      const parts = opens ? w.slice(0, -1) : w;
      const node: ConfNode = { key: parts[0]!, args: parts.slice(1), line };
      current.push(node);
      last = node;
      if (opens) {
        node.children = [];
        stack.push(node.children);
        last = undefined;
      }
    }
  });
  if (stack.length > 1)
    throw new HaloError('HALO_E_IMPORT', `${source}: a block is not closed (missing "}")`, { file: source });
  return root;
}

/** `a b { c } }` on one line → [a b {], [c], [}], [}]. */
function splitStatements(ws: string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const w of ws) {
    if (w === '{') {
      cur.push('{');
      out.push(cur);
      cur = [];
    } else if (w === '}') {
      if (cur.length) out.push(cur);
      out.push(['}']);
      cur = [];
    } else cur.push(w);
  }
  if (cur.length) out.push(cur);
  return out;
}
