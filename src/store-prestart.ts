import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {startServerEarly} from './adapters/postgres/store-client.js'
import {embeddedStateDir, stateDatabaseUrl} from './state-url.js'

/** The commands that use the state store (aliases included): worth starting the embedded store's server early for. */
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

/**
 * The embedded store's directory when `argv` (normalized, src/argv.ts) runs a command that uses the store and
 * no state database URL is set; undefined for help, `create --dry-run`, `gc install`/`gc uninstall`, commands
 * without state and shared Postgres.
 */
export function storeDirectoryFor(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const [command, next] = argv
  if (command === undefined || !STORE_COMMANDS.has(command) || stateDatabaseUrl(env)) return undefined
  if (command === 'gc' && next !== undefined && !next.startsWith('-')) return undefined
  if (argv.some((arg) => arg === '--help' || arg === '-h' || arg === '--dry-run')) return undefined
  return embeddedStateDir(oclifDataDir(env), env)
}

/** bin/run.js, before oclif loads: starts the embedded store's server for the command in `argv` when it needs one. */
export function prestartStoreServer(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const dir = storeDirectoryFor(argv, env)
  if (dir === undefined) return
  try {
    startServerEarly(dir)
  } catch {
    // Only a head start: the command starts the server itself and reports what fails.
  }
}
