/** One statement of a SQL file and the line (1-based) it starts on, so an error can name it. */
export interface SqlStatement {
  sql: string
  line: number
}

/** Length of the quoted or commented run that starts at `i`, or 0 when none starts there. */
function skippedRun(text: string, i: number): number {
  const rest = text.slice(i)
  if (rest.startsWith('--')) return endOf(rest, '\n', 2)
  if (rest.startsWith('/*')) return endOf(rest, '*/', 2)
  if (rest[0] === "'" || rest[0] === '"') return endOf(rest, rest[0], 1)
  const dollar = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)
  return dollar ? endOf(rest, dollar[0], dollar[0].length) : 0
}

/** Index just past the first `closer` in `text` from `from` (doubled quotes close and reopen, which is the same run). */
function endOf(text: string, closer: string, from: number): number {
  const at = text.indexOf(closer, from)
  return at === -1 ? text.length : at + closer.length
}

function lineAt(text: string, index: number): number {
  let line = 1
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/**
 * Splits a SQL file into statements at top-level semicolons, skipping quotes, quoted identifiers, comments and
 * dollar-quoted bodies (`$$ ... $$`, `$fn$ ... $fn$`), so each statement runs alone and an error names its line.
 * Statements that are only whitespace and comments are dropped.
 */
export function splitStatements(text: string): SqlStatement[] {
  const statements: SqlStatement[] = []
  let start = 0
  let i = 0
  const push = (end: number): void => {
    const raw = text.slice(start, end)
    const offset = leadingNoise(raw)
    if (offset < raw.length) statements.push({sql: raw.slice(offset).trimEnd(), line: lineAt(text, start + offset)})
    start = end + 1
  }
  while (i < text.length) {
    const run = skippedRun(text, i)
    if (run > 0) {
      i += run
      continue
    }
    if (text[i] === ';') push(i)
    i++
  }
  push(text.length)
  return statements
}

/** Length of the whitespace and comments a statement starts with. */
function leadingNoise(sql: string): number {
  let i = 0
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++
    const rest = sql.slice(i)
    if (!rest.startsWith('--') && !rest.startsWith('/*')) return i
    i += skippedRun(sql, i)
  }
}
