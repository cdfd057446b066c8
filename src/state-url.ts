import {join} from 'node:path'

/**
 * The shared state database: DEMO_DATABASE_URL, else DATABASE_URL, else none (the embedded store).
 * A module of its own so that commands that only read state (list, get) never load the project config, and
 * bin/run.js can tell where the state lives before oclif loads.
 */
export function stateDatabaseUrl(env: NodeJS.ProcessEnv): string | null {
  return env.DEMO_DATABASE_URL || env.DATABASE_URL || null
}

/** The embedded store's directory: DEMO_STATE_DIR, else `<data dir>/state` (e.g. ~/.local/share/demo/state). */
export function embeddedStateDir(dataDir: string, env: NodeJS.ProcessEnv): string {
  return env.DEMO_STATE_DIR || join(dataDir, 'state')
}
