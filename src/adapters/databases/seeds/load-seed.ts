import type {Queryable} from '../postgres/migrations.js'
import {MIGRATIONS_TABLE} from '../postgres/migrations.js'
import {quoteIdent, quoteLiteral} from '../postgres/sql-text.js'
import type {SeedTable, SeedValue} from './generate-seed.js'

/** Postgres allows 65 535 parameters in one statement; a batch stays well under it. */
const MAX_PARAMETERS = 30_000

function insertHead(table: SeedTable): string {
  return `INSERT INTO ${quoteIdent(table.name)} (${table.columns.map(quoteIdent).join(', ')}) VALUES `
}

/** Loads the rows with multi-row INSERTs, on a client already in a transaction with search_path set to the demo's schema. */
export async function insertSeedTables(client: Queryable, tables: readonly SeedTable[]): Promise<number> {
  let total = 0
  for (const table of tables) {
    const perBatch = Math.max(1, Math.floor(MAX_PARAMETERS / table.columns.length))
    for (let start = 0; start < table.rows.length; start += perBatch) {
      const batch = table.rows.slice(start, start + perBatch)
      const params: SeedValue[] = []
      const tuples = batch.map((row) => `(${row.map((value) => `$${params.push(value)}`).join(', ')})`)
      await client.query(insertHead(table) + tuples.join(', '), params)
      total += batch.length
    }
  }
  return total
}

/** The app's tables in the schema (every table but the migrations record). */
export async function appTables(client: Queryable, schema: string): Promise<string[]> {
  const {rows} = await client.query<{name: string}>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 ORDER BY c.relname`,
    [schema, MIGRATIONS_TABLE],
  )
  return rows.map((r) => r.name)
}

/** Empties every app table of the schema (one TRUNCATE, identities restarted), inside the caller's transaction. */
export async function truncateAppTables(client: Queryable, schema: string): Promise<void> {
  const tables = await appTables(client, schema)
  if (tables.length === 0) return
  await client.query(`TRUNCATE ${tables.map((t) => `${quoteIdent(schema)}.${quoteIdent(t)}`).join(', ')} RESTART IDENTITY CASCADE`)
}

function literal(value: SeedValue): string {
  if (value === null) return 'NULL'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return quoteLiteral(value)
}

/** The same rows as a plain SQL dump (one transaction of multi-row INSERTs): what `psql -f` loads in the benchmark. */
export function seedDump(tables: readonly SeedTable[]): string {
  const parts = ['BEGIN;']
  for (const table of tables) {
    for (let start = 0; start < table.rows.length; start += 1000) {
      const tuples = table.rows.slice(start, start + 1000).map((row) => `(${row.map(literal).join(', ')})`)
      parts.push(`${insertHead(table)}\n${tuples.join(',\n')};`)
    }
  }
  parts.push('COMMIT;')
  return parts.join('\n')
}
