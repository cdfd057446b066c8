import type pg from 'pg'
import {connect, inTransaction} from '../databases/postgres/demo-schema.js'
import {applyMigrations, type SqlFile} from '../databases/postgres/migrations.js'
import {quoteIdent} from '../databases/postgres/sql-text.js'
import {appTables} from '../databases/seeds/load-seed.js'
import {
  loadSeedInTransaction,
  personasOf,
  runSeedCommand,
  setPersonaPasswords,
  type Login,
  type SeedRun,
  type SeedSource,
} from '../databases/seeds/seed-source.js'

/** A Supabase project's app tables live in `public`, the schema its Data API exposes by default. */
export const PROJECT_SCHEMA = 'public'

export interface ProjectSetup {
  databaseUrl: string
  migrations: readonly SqlFile[]
  source: SeedSource
  run: SeedRun
  output?: (line: string) => void
}

async function isEmpty(client: pg.Client): Promise<boolean> {
  for (const table of await appTables(client, PROJECT_SCHEMA)) {
    const {rows} = await client.query(`SELECT 1 FROM ${quoteIdent(PROJECT_SCHEMA)}.${quoteIdent(table)} LIMIT 1`)
    if (rows.length > 0) return false
  }
  return true
}

/**
 * The app's migrations and the type's seed over a project's own database, in one transaction (the same runner and
 * seeds as shared-schema, in schema `public`); a project adopted after a killed create is not seeded twice. Returns
 * the demo logins with their new passwords (secrets), which become Auth users.
 */
export async function setUpProjectDatabase(setup: ProjectSetup): Promise<Login[]> {
  const client = await connect(setup.databaseUrl, 'the Supabase project database')
  try {
    const logins = await inTransaction(client, async () => {
      await applyMigrations(client, PROJECT_SCHEMA, setup.migrations)
      if (await isEmpty(client)) await loadSeedInTransaction(client, setup.source, setup.run)
      return setPersonaPasswords(client, PROJECT_SCHEMA, personasOf(setup.source))
    })
    if (setup.source.kind === 'command') {
      await runSeedCommand(setup.source, {databaseUrl: setup.databaseUrl, schema: PROJECT_SCHEMA, run: setup.run}, setup.output ?? (() => {}))
    }
    return logins
  } finally {
    await client.end().catch(() => {})
  }
}
