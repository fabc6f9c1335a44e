// Master-file tokenizer (RFC 1035 §5.1): turns zone text into entries, one per record or
// directive, with parentheses already folded and comments dropped.

export interface Token {
  /** Raw text: escapes (\X, \DDD) are kept for the field parser to interpret. */
  text: string;
  /** Written inside double quotes (a <character-string>, never a name or number). */
  quoted: boolean;
  line: number;
}

export interface Entry {
  /** Line the entry starts on. */
  line: number;
  /** The line began with a blank: the owner is omitted and the previous one applies (§5.1). */
  blankOwner: boolean;
  tokens: Token[];
}

export interface LexProblem {
  line: number;
  message: string;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\r';

/**
 * Split zone text into entries. Never throws: a malformed entry (unterminated quote,
 * stray parenthesis) is reported and left out, and lexing resumes on the next line.
 */
export function lex(text: string): { entries: Entry[]; problems: LexProblem[] } {
  const entries: Entry[] = [];
  const problems: LexProblem[] = [];
  let line = 1;
  let i = 0;
  let cur: Entry | undefined;
  let broken = false;
  // Parentheses let one entry span lines (§5.1); remember where the group opened.
  let depth = 0;
  let openLine = 0;

  const finish = (): void => {
    if (cur && cur.tokens.length > 0 && !broken) entries.push(cur);
    cur = undefined;
    broken = false;
  };
  const fail = (at: number, message: string): void => {
    if (!broken) problems.push({ line: at, message });
    broken = true;
  };
  const push = (tok: Token): void => {
    cur ??= { line: tok.line, blankOwner: false, tokens: [] };
    cur.tokens.push(tok);
  };

  while (i < text.length) {
    const atLineStart = i === 0 || text[i - 1] === '\n';
    if (atLineStart && depth === 0) {
      finish();
      cur = { line, blankOwner: isBlank(text[i]), tokens: [] };
    }
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '(') {
      if (depth === 0) openLine = line;
      depth++;
      i++;
      continue;
    }
    if (c === ')') {
      if (depth === 0) fail(line, 'unbalanced ")"');
      else depth--;
      i++;
      continue;
    }
    if (c === '"') {
      const start = line;
      let j = i + 1;
      // A quoted string ends at the first unescaped quote and may not run past the line.
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') {
        j += text[j] === '\\' && j + 1 < text.length && text[j + 1] !== '\n' ? 2 : 1;
      }
      if (text[j] !== '"') {
        fail(start, 'unterminated quoted string');
        i = j;
        continue;
      }
      push({ text: text.slice(i + 1, j), quoted: true, line: start });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < text.length) {
      const d = text[j];
      if (d === '\n' || isBlank(d) || d === ';' || d === '(' || d === ')' || d === '"') break;
      // A backslash protects the next character, even a blank or a delimiter.
      j += d === '\\' && j + 1 < text.length && text[j + 1] !== '\n' ? 2 : 1;
    }
    push({ text: text.slice(i, j), quoted: false, line });
    i = j;
  }
  if (depth > 0) fail(openLine, 'unbalanced "(": no closing ")" before the end of the file');
  finish();
  return { entries, problems };
}
