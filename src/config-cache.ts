import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {completeConfig, pickConfigPath, type ConfigSources, type LoadedConfig} from './config-files.js'
import type {ProjectConfig} from './core/project-config.js'

/**
 * Where validated configs are remembered: `dir` (oclif's cache directory, e.g. ~/.cache/demo) and the id of the
 * build that validated them. Without a build id (the sources run by tsx: no dist/build-id) nothing is remembered.
 */
export interface ConfigCache {
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

/** The version of zod that validates: an update of it may validate differently, with the same build. */
function zodVersion(): string {
  try {
    const require = createRequire(import.meta.url)
    return (JSON.parse(readFileSync(require.resolve('zod/package.json'), 'utf8')) as {version?: string}).version ?? ''
  } catch {
    return ''
  }
}

/**
 * loadConfig (config.ts), remembering each config text it validated. Validation loads zod and builds the schema,
 * ~70 ms of CPU in every command that reads the config (docs/benchmarks.md, startup); a text that passed once
 * passes again, with the same result, for the same build and zod. So the result is kept in
 * `<dir>/config/<sha256 of build id, zod version and text>.json`, and read back instead of validating again. What
 * does not depend on the text alone (the paths it names: checked against the file system, the state URL: from the
 * environment) is worked out every time, as before. A text that fails is never remembered, so every error comes
 * from the validator. The cache is best effort: an unreadable or unwritable one means validating, never an error.
 */
export async function loadConfigRemembered(sources: ConfigSources, cache: ConfigCache | undefined): Promise<LoadedConfig> {
  const configPath = pickConfigPath(sources)
  const text = configPath ? readFileSync(configPath, 'utf8') : ''
  const file = cache ? join(cache.dir, 'config', `${keyOf(cache.buildId, text)}.json`) : undefined
  const remembered = file ? readRemembered(file) : undefined
  if (remembered) return completeConfig(sources, configPath, remembered)
  const {parseProjectConfig} = await import('./config.js')
  const project = parseProjectConfig(text, configPath ?? '(built-in defaults)')
  if (file) remember(file, project)
  return completeConfig(sources, configPath, project)
}

function keyOf(buildId: string, text: string): string {
  return createHash('sha256').update(`${buildId}\0${zodVersion()}\0${text}`).digest('hex')
}

function readRemembered(file: string): ProjectConfig | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown
    return value && typeof value === 'object' ? (value as ProjectConfig) : undefined
  } catch {
    return undefined
  }
}

/**
 * Written to a file of its own, then renamed: a reader sees the whole entry or none. Readable by the user only,
 * like the state: a config's `services.*.env` may hold values its owner would not want copied for everyone.
 */
function remember(file: string, project: ProjectConfig): void {
  try {
    mkdirSync(join(file, '..'), {recursive: true, mode: 0o700})
    const partial = `${file}.${process.pid}.tmp`
    writeFileSync(partial, JSON.stringify(project), {mode: 0o600})
    renameSync(partial, file)
  } catch {
    // Best effort: the next command validates again.
  }
}
