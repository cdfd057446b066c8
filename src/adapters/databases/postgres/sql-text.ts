/** A SQL identifier, double-quoted (names here are generated, but quoting keeps them safe anyway). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A SQL string literal (for statements that take no parameters, like CREATE ROLE ... PASSWORD). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}
