/**
 * Executable documentation (decision 1201): finds the examples in README.md and
 * docs/*.md so that test/docs/examples.test.ts can run them.
 *
 * - ```sh blocks: every `npx qscope …` line and every `python3 examples/…`
 *   line is a command to run; other lines (`npm install`, `cd`) are the
 *   reader's own setup and are not run. Other fences (```text, bare ```) are
 *   synopses, never run: a runnable example must be in a ```sh block.
 * - ```json blocks with a `"method"` key: one JSON object per line; every
 *   object with `method` is a request for the control socket; a following line
 *   with the same `id` and `result` or `error` is the documented reply (an
 *   `error` line says which code is expected). Other json blocks illustrate a
 *   payload and are not run.
 * - ```ts blocks that import from `qscope/…`: a client program, run as is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Block {
  file: string;
  lang: string;
  /** 1-based line of the first line inside the fence. */
  line: number;
  lines: string[];
}

export interface ShellCommand {
  file: string;
  line: number;
  kind: 'qscope' | 'python';
  /** Arguments after `npx qscope` (or after `python3`). */
  argv: string[];
  text: string;
}

/** Fenced blocks (``` or ~~~, possibly indented under a list item). */
export function fencedBlocks(markdown: string, file: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```|~~~)\s*([\w+-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.trimStart().startsWith(fence!); j++) body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    out.push({ file, lang: (lang ?? '').toLowerCase(), line: i + 2, lines: body });
    i = j;
  }
  return out;
}

/** Splits one shell line into words: quotes, backslash escapes, `#` comments; throws on what it cannot run (pipes, `$(…)`). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in: ${text}`);
      cur += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === '|' || c === '$' || c === '`' || c === ';' || c === '&' || c === '<' || c === '>') {
      throw new Error(`'${c}' in an example: write one plain command per line (${text.trim()})`);
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The runnable lines of the sh blocks (backslash-newline continuations joined). */
export function shellCommands(blocks: Block[]): ShellCommand[] {
  const out: ShellCommand[] = [];
  for (const b of blocks.filter((x) => x.lang === 'sh')) {
    for (let i = 0; i < b.lines.length; i++) {
      const first = i;
      let text = b.lines[i]!;
      while (/\\\s*$/.test(text) && i + 1 < b.lines.length) text = text.replace(/\\\s*$/, ' ') + b.lines[++i]!;
      const trimmed = text.trim();
      if (trimmed.startsWith('npx qscope')) out.push({ file: b.file, line: b.line + first, kind: 'qscope', argv: shellWords(trimmed).slice(2), text: trimmed });
      else if (/^python3? examples\//.test(trimmed)) out.push({ file: b.file, line: b.line + first, kind: 'python', argv: shellWords(trimmed).slice(1), text: trimmed });
    }
  }
  return out;
}

export interface JsonExchange {
  file: string;
  line: number;
  request: { id: string | number; method: string; params?: unknown };
  /** The documented reply, when the block shows one. */
  reply?: { id: unknown; result?: unknown; error?: { code: number; message?: string } };
}

/** Requests (and their documented replies) of the json blocks. */
export function jsonExchanges(blocks: Block[]): JsonExchange[] {
  const out: JsonExchange[] = [];
  // A json block with a `"method"` key holds requests (strict: one object per line); any other json block
  // illustrates a payload (a bridge's hello reply, a frame header) and is not run.
  for (const b of blocks.filter((x) => x.lang === 'json' && x.lines.some((l) => /"method"\s*:/.test(l)))) {
    const objs: { line: number; value: Record<string, unknown> }[] = [];
    try {
      b.lines.forEach((text, k) => {
        if (!text.trim()) return;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (err) {
          throw new Error(`${b.file}:${b.line + k}: a json example must be one JSON object per line, or the whole block one JSON value (${(err as Error).message})`);
        }
        objs.push({ line: b.line + k, value: value as Record<string, unknown> });
      });
    } catch (lineError) {
      // A block that is one multi-line JSON value (a message shown pretty-printed) must still parse.
      try {
        objs.splice(0, objs.length, { line: b.line, value: JSON.parse(b.lines.join('\n')) as Record<string, unknown> });
      } catch {
        throw lineError;
      }
    }
    for (const o of objs) {
      if (typeof o.value.method !== 'string') continue;
      const reply = objs.find((r) => r !== o && r.value.id === o.value.id && typeof r.value.method !== 'string' && r.line > o.line);
      out.push({ file: b.file, line: o.line, request: o.value as JsonExchange['request'], ...(reply ? { reply: reply.value as JsonExchange['reply'] } : {}) });
    }
  }
  return out;
}

/** The client programs (```ts blocks importing `qscope/…`). */
export function clientPrograms(blocks: Block[]): Block[] {
  return blocks.filter((b) => b.lang === 'ts' && b.lines.some((l) => /from 'qscope\//.test(l)));
}

/** README.md and every docs/*.md (not the decision records: they quote history). */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((n) => n.endsWith('.md')).map((n) => join(root, 'docs', n));
  return [join(root, 'README.md'), ...docs.sort()];
}

export function blocksOf(root: string, file: string): Block[] {
  return fencedBlocks(readFileSync(file, 'utf8'), relative(root, file));
}
