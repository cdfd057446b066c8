/**
 * The shared state database: DEMO_DATABASE_URL, else DATABASE_URL, else none (the embedded store).
 * A module of its own so that commands that only read state (list, get) never load the project config.
 */
export function stateDatabaseUrl(env: NodeJS.ProcessEnv): string | null {
  return env.DEMO_DATABASE_URL || env.DATABASE_URL || null
}
