import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type pg from 'pg'
import {ConfigError, MigrationError} from '../../../core/errors.js'
import {quoteIdent} from './sql-text.js'
import {splitStatements} from './sql-statements.js'

/** A SQL file as read from disk: its name (what errors and the migrations table show) and its text. */
export interface SqlFile {
  name: string
  text: string
}

/** Anything that runs a query: a pg Client or a pool client inside the caller's transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>

/** The table in each demo schema that records the migrations applied to it. */
export const MIGRATIONS_TABLE = 'schema_migrations'

/** The `*.sql` files of a directory, in name order (0001_init.sql, 0002_jobs.sql ...). ConfigError when the directory is missing or has none. */
export function readMigrations(dir: string): SqlFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`The migrations directory ${dir} does not exist.`, {
      hint: 'Point database.migrationsDir in demo.config.yaml at a directory of .sql files, or remove it to use the built-in migrations.',
    })
  }
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
  if (names.length === 0) {
    throw new ConfigError(`The migrations directory ${dir} holds no .sql files.`, {
      hint: 'Add the app schema as 0001_init.sql (files are applied in name order).',
    })
  }
  return names.map((name) => ({name, text: readFileSync(join(dir, name), 'utf8')}))
}

/** Line of the error inside the statement (Postgres reports a 1-based character position for syntax and name errors). */
function lineWithin(sql: string, position: unknown): number {
  const at = Number(position)
  if (!Number.isInteger(at) || at < 1) return 0
  return sql.slice(0, at - 1).split('\n').length - 1
}

/** Runs one file statement by statement; MigrationError naming the file and the failing statement's line. */
export async function runSqlFile(client: Queryable, file: SqlFile, what = 'Migration'): Promise<void> {
  for (const statement of splitStatements(file.text)) {
    try {
      await client.query(statement.sql)
    } catch (error) {
      const line = statement.line + lineWithin(statement.sql, (error as {position?: unknown}).position)
      const reason = error instanceof Error ? error.message : String(error)
      throw new MigrationError(`${what} ${file.name} failed at line ${line}: ${reason}`, {
        hint: `Fix ${file.name} at line ${line}; nothing of it was kept (every file runs in one transaction).`,
        cause: error,
      })
    }
  }
}

/**
 * Applies the files not yet recorded in `<schema>.schema_migrations`, in order, inside the schema (search_path),
 * on a client already in a transaction: a failing file leaves the caller to roll everything back. Returns the
 * names applied now. Safe to repeat: recorded files are skipped.
 */
export async function applyMigrations(client: Queryable, schema: string, files: readonly SqlFile[]): Promise<string[]> {
  const table = `${quoteIdent(schema)}.${MIGRATIONS_TABLE}`
  await client.query(`SET LOCAL search_path = ${quoteIdent(schema)}`)
  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
  const {rows} = await client.query<{name: string}>(`SELECT name FROM ${table}`)
  const done = new Set(rows.map((r) => r.name))
  const applied: string[] = []
  for (const file of files.filter((f) => !done.has(f.name))) {
    await runSqlFile(client, file)
    await client.query(`INSERT INTO ${table} (name) VALUES ($1)`, [file.name])
    applied.push(file.name)
  }
  return applied
}
