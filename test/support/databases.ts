import {mkdtempSync} from 'node:fs'
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

export function tempDir(prefix = 'demo-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}
