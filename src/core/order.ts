/**
 * Orders strings by UTF-16 code unit, as `<` does. For what the tool sorts (demo ids, DNS labels, ISO timestamps:
 * lowercase ASCII) that is the order localeCompare gives; where only a fixed order matters (the keys of canonical
 * JSON) any order does. Not localeCompare: its first call in a process sets up ICU's collator, ~7–12 ms of CPU of
 * every create (docs/decisions.md, Performance).
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
