import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'

/** The run's fresh Postgres database (test/run-integration.sh creates it). */
export function testDatabaseUrl(): string {
  const url = process.env.DEMO_TEST_DATABASE_URL
  if (!url) throw new Error('DEMO_TEST_DATABASE_URL is not set: run the integration tests through `npm run test:integration`.')
  return url
}

/** Drops our schema so the next store opens (and migrates) a clean one. */
export async function resetSchema(url = testDatabaseUrl()): Promise<void> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    await client.query('DROP SCHEMA IF EXISTS demo_orchestrator CASCADE')
  } finally {
    await client.end()
  }
}

const made: string[] = []

/**
 * A fresh directory under the temp directory, removed with everything in it when this test process exits (an
 * embedded store's server whose data directory goes stops by itself). Kept, they had filled this machine's /tmp
 * with 14 GB over the project's earlier runs, some with a 39–78 MB embedded store each; DEMO_TEST_KEEP_TMP=1 keeps them, to
 * look at after a failure.
 */
export function tempDir(prefix = 'demo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  if (made.length === 0 && !process.env.DEMO_TEST_KEEP_TMP) process.once('exit', removeMade)
  made.push(dir)
  return dir
}

function removeMade(): void {
  for (const dir of made) rmSync(dir, {recursive: true, force: true})
}

/**
 * A database of its own for one test file (CREATE DATABASE on the run's server; the test role has
 * CREATEDB), so files never share the demo_orchestrator schema. Returns its URL and a drop function.
 */
export async function scratchDatabase(prefix = 'scratch'): Promise<{url: string; drop: () => Promise<void>}> {
  const base = new URL(testDatabaseUrl())
  const name = `${base.pathname.slice(1)}_${prefix}_${Math.random().toString(36).slice(2, 8)}`.slice(0, 63)
  const admin = new pg.Client({connectionString: base.toString()})
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  const url = new URL(base)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () => dropDatabase(base.toString(), name),
  }
}

/**
 * Drops a test database whatever is still connected to it. DROP DATABASE ... WITH (FORCE) is not enough: it
 * refuses (42501) to end a backend of a role the test role is not a member of, and an autovacuum worker busy on
 * freshly seeded tables is one (the cause of a rare failed teardown). So: end our own role's sessions, then a plain
 * DROP DATABASE, which cancels autovacuum itself, retried while a session is still leaving (55006) for up to 10 s.
 * An error after that names the sessions still in the database.
 */
export async function dropDatabase(adminUrl: string, name: string, timeoutMs = 10_000): Promise<void> {
  const client = new pg.Client({connectionString: adminUrl})
  await client.connect()
  try {
    await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()',
      [name],
    )
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}"`)
        return
      } catch (error) {
        if ((error as {code?: string}).code !== '55006' || Date.now() > deadline) {
          const {rows} = await client.query<{who: string}>('SELECT coalesce(usename, backend_type) AS who FROM pg_stat_activity WHERE datname = $1', [
            name,
          ])
          const who = rows.map((r) => r.who).join(', ') || 'none'
          throw new Error(`dropping test database ${name} failed: ${(error as Error).message}; sessions still in it: ${who}`, {cause: error})
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } finally {
    await client.end()
  }
}

/** The rows of one statement on `url`, through a connection of its own (closed afterwards). */
export async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    return (await client.query(text, values)).rows as T[]
  } finally {
    await client.end()
  }
}
