import {randomBytes, scrypt} from 'node:crypto'
import {promisify} from 'node:util'
import {execa} from 'execa'
import {SeedError} from '../../../core/errors.js'
import {runSqlFile, type Queryable, type SqlFile} from '../postgres/migrations.js'
import {quoteIdent} from '../postgres/sql-text.js'
import {generateSeed, seedAnchor} from './generate-seed.js'
import {insertSeedTables} from './load-seed.js'
import type {Persona, SeedProfile} from './seed-profile.js'

/**
 * Where a demo type's data comes from (types.<type> in demo.config.yaml): a generated seed of seeds/ (the
 * default), a SQL file of the project, or a command (a design-card package) run with the demo's DATABASE_URL.
 */
export type SeedSource =
  | {kind: 'generated'; name: string; profile: SeedProfile}
  | {kind: 'sql'; file: SqlFile}
  | {kind: 'command'; command: string[]; cwd: string; timeoutMs: number}
  | {kind: 'none'}

export interface SeedRun {
  seedValue: number
  createdAt: Date
}

/**
 * Loads a seed that runs inside the caller's transaction (generated or SQL file), with search_path on the demo's
 * schema and the demo's role in effect. A command seed runs afterwards (runSeedCommand), as it needs its own
 * connection. Returns the number of rows inserted (0 for a SQL file).
 */
export async function loadSeedInTransaction(client: Queryable, source: SeedSource, run: SeedRun): Promise<number> {
  if (source.kind === 'generated') return insertSeedTables(client, generateSeed(source.profile, run.seedValue, seedAnchor(run.createdAt)))
  if (source.kind === 'sql') {
    try {
      await runSqlFile(client, source.file, 'Seed file')
    } catch (error) {
      throw new SeedError(error instanceof Error ? error.message : String(error), {
        hint: `Fix ${source.file.name}; nothing of the demo was kept.`,
        cause: error,
      })
    }
  }
  return 0
}

/**
 * Runs a command seed with the demo's DATABASE_URL (and DEMO_SEED_VALUE, DEMO_CREATED_AT) in its environment;
 * each output line goes to `output`. SeedError when it fails or runs past its timeout (it is killed).
 */
export async function runSeedCommand(
  source: Extract<SeedSource, {kind: 'command'}>,
  env: {databaseUrl: string; schema: string; run: SeedRun},
  output: (line: string) => void,
): Promise<void> {
  const [file, ...args] = source.command
  if (!file) throw new SeedError('The seed command is empty.', {hint: 'Give types.<type>.seedCommand.run as a list: [program, arg ...].'})
  const child = execa(file, args, {
    cwd: source.cwd,
    timeout: source.timeoutMs,
    all: true,
    reject: false,
    stdin: 'ignore',
    env: {
      DATABASE_URL: env.databaseUrl,
      DB_SCHEMA: env.schema,
      DEMO_SEED_VALUE: String(env.run.seedValue),
      DEMO_CREATED_AT: env.run.createdAt.toISOString(),
    },
  })
  for await (const line of child.iterable({from: 'all'})) output(String(line))
  const result = await child
  if (result.timedOut) {
    throw new SeedError(`The seed command \`${source.command.join(' ')}\` did not finish within ${source.timeoutMs / 1000} s and was stopped.`, {
      hint: 'Make it faster, or raise types.<type>.seedCommand.timeoutSeconds in demo.config.yaml.',
    })
  }
  if (result.failed) {
    const why = result.exitCode === undefined ? (result.shortMessage ?? 'it could not start') : `exit code ${result.exitCode}`
    throw new SeedError(`The seed command \`${source.command.join(' ')}\` failed (${why}).`, {
      hint: 'Its output is above; run it by hand with DATABASE_URL set to debug it.',
    })
  }
}

/** A demo login with its generated password (shown by `demo get --show-secrets`, kept only in the demo's Secret). */
export interface Login extends Persona {
  password: string
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>

/** scrypt on libuv's thread pool: the personas' hashes run side by side and never block the event loop (~160 ms each). */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  return `scrypt$${salt.toString('hex')}$${(await scryptAsync(password, salt, 32)).toString('hex')}`
}

/** Gives each persona of the seed a fresh random password (its scrypt hash in users.password_hash), in one UPDATE. */
export async function setPersonaPasswords(client: Queryable, schema: string, personas: readonly Persona[]): Promise<Login[]> {
  if (personas.length === 0) return []
  const logins: Login[] = personas.map((persona) => ({...persona, password: randomBytes(12).toString('base64url')}))
  const hashes = await Promise.all(logins.map((login) => hashPassword(login.password)))
  await client.query(
    `UPDATE ${quoteIdent(schema)}.users AS u SET password_hash = p.hash FROM unnest($1::text[], $2::text[]) AS p(email, hash) WHERE u.email = p.email`,
    [logins.map((l) => l.email), hashes],
  )
  return logins
}

/** The personas' password hashes before a reset, to put back after the re-seed (logins keep working). */
export async function personaHashes(client: Queryable, schema: string, personas: readonly Persona[]): Promise<Array<[string, string]>> {
  if (personas.length === 0) return []
  const {rows} = await client.query<{email: string; password_hash: string | null}>(
    `SELECT email, password_hash FROM ${quoteIdent(schema)}.users WHERE email = ANY($1)`,
    [personas.map((p) => p.email)],
  )
  return rows.filter((r) => r.password_hash !== null).map((r) => [r.email, r.password_hash as string])
}

export async function restorePersonaHashes(client: Queryable, schema: string, hashes: ReadonlyArray<[string, string]>): Promise<void> {
  for (const [email, hash] of hashes) await client.query(`UPDATE ${quoteIdent(schema)}.users SET password_hash = $1 WHERE email = $2`, [hash, email])
}

export function personasOf(source: SeedSource): readonly Persona[] {
  return source.kind === 'generated' ? source.profile.personas : []
}
