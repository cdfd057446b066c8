/**
 * What people type that oclif would not take, rewritten before oclif parses it:
 * - `demo --json list` (a global flag before the command, as gh and kubectl allow) → `demo list --json`;
 * - `demo create help` (help after a command) → `demo help create`.
 * Everything else is passed through unchanged.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const args = [...argv]
  const leading: string[] = []
  while (args[0] === '--json') leading.push(args.shift() as string)
  const [command, ...rest] = args
  if (command === undefined || command.startsWith('-')) return [...leading, ...args]
  if (rest.length === 1 && rest[0] === 'help') return ['help', command]
  return [command, ...rest, ...leading]
}
