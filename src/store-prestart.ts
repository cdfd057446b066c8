import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {embeddedStateDir, stateDatabaseUrl} from './state-url.js'

/** The commands that use the state store (aliases included): worth opening it early for. */
const STORE_COMMANDS = new Set([
  'create',
  'destroy',
  'rm',
  'delete',
  'extend',
  'gc',
  'get',
  'health',
  'list',
  'ls',
  'reset',
  'stats',
  'wait',
  'doctor',
])

/**
 * oclif's data directory for this CLI, computed as @oclif/core's Config does (`DEMO_DATA_DIR`, else
 * `$XDG_DATA_HOME/demo`, else `%LOCALAPPDATA%\demo` on Windows, else `~/.local/share/demo`), without loading
 * oclif. A unit test compares it with oclif's own; were they ever to differ, the command would still start the
 * server it needs itself, only later.
 */
export function oclifDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.DEMO_DATA_DIR) return env.DEMO_DATA_DIR
  const windows = platform === 'win32'
  const base = env.XDG_DATA_HOME || (windows && env.LOCALAPPDATA) || join(homeDir(env, windows), '.local/share')
  return join(base, 'demo')
}

/** oclif's home directory: HOME, else on Windows HOMEDRIVE+HOMEPATH or USERPROFILE, else the OS's, else the temp dir. */
function homeDir(env: NodeJS.ProcessEnv, windows: boolean): string {
  const windowsHome = env.HOMEDRIVE && env.HOMEPATH ? join(env.HOMEDRIVE, env.HOMEPATH) : env.USERPROFILE
  return env.HOME || (windows && windowsHome) || homedir() || tmpdir()
}

/** Where the command in `argv` keeps its state, for opening it before oclif loads. */
export type EarlyStore = {kind: 'postgres'; url: string} | {kind: 'embedded'; dir: string}

/**
 * The store of the command in `argv` (normalized, src/argv.ts) when it uses one: the shared Postgres URL, else
 * the embedded store's directory. Undefined for help, `create --dry-run`, `gc install`/`gc uninstall` and
 * commands without state.
 */
export function earlyStoreFor(argv: readonly string[], env: NodeJS.ProcessEnv): EarlyStore | undefined {
  const [command, next] = argv
  if (command === undefined || !STORE_COMMANDS.has(command)) return undefined
  if (command === 'gc' && next !== undefined && !next.startsWith('-')) return undefined
  if (argv.some((arg) => arg === '--help' || arg === '-h' || arg === '--dry-run')) return undefined
  const url = stateDatabaseUrl(env)
  return url ? {kind: 'postgres', url} : {kind: 'embedded', dir: embeddedStateDir(oclifDataDir(env), env)}
}

/**
 * bin/run.js, before oclif loads: starts opening the store of the command in `argv`, so it is (nearly) open when
 * the command asks for it. Shared Postgres: the connection and the schema check (open-store.ts); the embedded
 * store: its server, when none runs (store-client.ts).
 */
export async function prestartStore(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const store = earlyStoreFor(argv, env)
  try {
    if (store?.kind === 'postgres') await (await import('./adapters/postgres/open-store.js')).openPostgresEarly(store.url)
    else if (store) (await import('./adapters/postgres/store-client.js')).startServerEarly(store.dir)
  } catch {
    // Only a head start: the command opens the store itself and reports what fails.
  }
}
