import {createHash} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {completeConfig, pickConfigPath, type ConfigSources, type LoadedConfig} from './config-files.js'
import type {ProjectConfig} from './core/project-config.js'

/**
 * Where parsed and validated texts are remembered: `dir` (oclif's cache directory, e.g. ~/.cache/demo) and the id of
 * the build that parsed them. Without a build id (the sources run by tsx: no dist/build-id) nothing is remembered.
 */
export interface ParseCache {
  dir: string
  buildId: string
}

/** dist/build-id, written by `npm run build` (scripts/build-id.mjs): a hash of the whole build. */
export function readBuildId(packageRoot: string): string | undefined {
  try {
    return readFileSync(join(packageRoot, 'dist', 'build-id'), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

const versions = new Map<string, string>()

/** The version of a dependency that parses: an update of it may parse differently, with the same build. */
function versionOf(dependency: string): string {
  let version = versions.get(dependency)
  if (version === undefined) {
    try {
      const require = createRequire(import.meta.url)
      version = (JSON.parse(readFileSync(require.resolve(`${dependency}/package.json`), 'utf8')) as {version?: string}).version ?? ''
    } catch {
      version = ''
    }
    versions.set(dependency, version)
  }
  return version
}

/** What was remembered for a text (undefined: nothing), and how to remember a result for it. */
export interface Remembered {
  found: unknown
  keep(value: unknown): void
}

/**
 * The entry of `text` parsed by `parser` in `kind`: the result of a pure parse depends on the text, the build and the
 * parser's version only, so it is kept as JSON in `<dir>/<kind>/<sha256 of build id, parser version, text>.json`.
 * keep() remembers only a result that JSON gives back exactly (no Date, no undefined); a parse that throws has
 * nothing to keep, so every error comes from the parser. Best effort: a cache it cannot read or write is empty.
 */
export function remembered(cache: ParseCache | undefined, kind: string, parser: string, text: string): Remembered {
  if (!cache) return {found: undefined, keep: () => undefined}
  const key = createHash('sha256')
    .update(`${cache.buildId}\0${versionOf(parser)}\0${text}`)
    .digest('hex')
  const file = join(cache.dir, kind, `${key}.json`)
  return {found: readRemembered(file), keep: (value) => (isPlainJson(value) ? remember(file, value) : undefined)}
}

/** Whether JSON.stringify and JSON.parse give `value` back exactly. */
export function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0)
  if (Array.isArray(value)) return value.every(isPlainJson)
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false
  return Object.entries(value).every(([key, inner]) => key !== '__proto__' && isPlainJson(inner))
}

function readRemembered(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown
  } catch {
    return undefined
  }
}

/**
 * Written to a file of its own, then renamed: a reader sees the whole entry or none. Readable by the user only,
 * like the state: a config's `services.*.env` may hold values its owner would not want copied for everyone.
 */
function remember(file: string, value: unknown): void {
  try {
    mkdirSync(join(file, '..'), {recursive: true, mode: 0o700})
    const partial = `${file}.${process.pid}.tmp`
    writeFileSync(partial, JSON.stringify(value), {mode: 0o600})
    renameSync(partial, file)
    pruneOldest(join(file, '..'), MAX_ENTRIES)
  } catch {
    // Best effort: the next command parses again.
  }
}

/** Entries kept per kind: every build and every text adds one, so the oldest go (each is a few KB). */
export const MAX_ENTRIES = 100

/** Deletes the least recently written entries of `dir` beyond `keep`; only on a write, which a hit never does. */
function pruneOldest(dir: string, keep: number): void {
  const names = readdirSync(dir).filter((name) => name.endsWith('.json'))
  if (names.length <= keep) return
  const byAge = names.map((name) => ({name, at: statSync(join(dir, name)).mtimeMs})).sort((a, b) => a.at - b.at)
  for (const {name} of byAge.slice(0, names.length - keep)) unlinkSync(join(dir, name))
}

/**
 * loadConfig (config.ts), remembering each config text it validated. Validation loads zod and builds the schema,
 * ~70 ms of CPU in every command that reads the config (docs/benchmarks.md, startup); a text that passed once
 * passes again, with the same result, for the same build and zod, so it is kept under `<dir>/config/`. What does
 * not depend on the text alone (the paths it names: checked against the file system, the state URL: from the
 * environment) is worked out every time, as before. zod is imported only when a text is validated.
 */
export async function loadConfigRemembered(sources: ConfigSources, cache: ParseCache | undefined): Promise<LoadedConfig> {
  const configPath = pickConfigPath(sources)
  const text = configPath ? readFileSync(configPath, 'utf8') : ''
  const entry = remembered(cache, 'config', 'zod', text)
  if (entry.found !== null && typeof entry.found === 'object') return completeConfig(sources, configPath, entry.found as ProjectConfig)
  const {parseProjectConfig} = await import('./config.js')
  const project = parseProjectConfig(text, configPath ?? '(built-in defaults)')
  entry.keep(project)
  return completeConfig(sources, configPath, project)
}
