import {existsSync, realpathSync} from 'node:fs'
import {dirname, isAbsolute, join, relative, resolve} from 'node:path'
import {ConfigError} from './core/errors.js'
import type {ProjectConfig} from './core/project-config.js'
import {stateDatabaseUrl} from './state-url.js'
import {explicitConfigPath} from './config-path.js'

// The part of loading the config that does not validate it: which file, and the paths it names. It imports
// no zod, so that a config remembered as valid (parse-cache.ts) is loaded without it.

export const CONFIG_FILE_NAME = 'demo.config.yaml'

/** Everything the CLI reads from the outside world once, validated and frozen. */
export interface LoadedConfig {
  project: ProjectConfig
  /** The file the project config came from, or null for the built-in defaults. */
  configPath: string | null
  /** Absolute templates directory: the project's own, or the built-in one. */
  templatesDir: string
  seedsDir: string
  /** The project: the directory of demo.config.yaml (the working directory without one). Seed files and migrations must be inside it. */
  projectDir: string
  /** Absolute directory of the app's SQL migrations: database.migrationsDir, or the built-in templates/migrations. */
  migrationsDir: string
  databaseUrl: string | null
}

export interface ConfigSources {
  cwd: string
  env: NodeJS.ProcessEnv
  /** --config flag. */
  configFlag?: string
  /** Root of the installed package (templates/ and seeds/ live there). */
  packageRoot: string
}

/** Walks up from `cwd` to the filesystem root looking for demo.config.yaml. */
export function findConfigFile(cwd: string): string | null {
  let dir = resolve(cwd)
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

export function pickConfigPath(sources: ConfigSources): string | null {
  return explicitConfigPath(sources) ?? findConfigFile(sources.cwd)
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** The real path of `path` (symbolic links followed as far as they exist), so `..` and links cannot leave the project. */
function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/**
 * A path of demo.config.yaml resolved against the project directory; ConfigError naming the key when it points
 * outside the project (seed files and migrations are the project's own: a config must not reach other files).
 */
export function projectPath(projectDir: string, path: string, key: string, file: string | null): string {
  const absolute = resolve(projectDir, path)
  const inside = relative(realPath(projectDir), realPath(absolute))
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) return absolute
  throw new ConfigError(`${file ?? CONFIG_FILE_NAME}: "${key}": ${absolute} is outside the project (${projectDir}).`, {
    hint: `Put it inside ${projectDir} and give its path relative to ${file ?? CONFIG_FILE_NAME}.`,
  })
}

function checkProjectPaths(project: ProjectConfig, projectDir: string, configPath: string | null): void {
  for (const [name, type] of Object.entries(project.types)) {
    if (type.seedFile) projectPath(projectDir, type.seedFile, `types.${name}.seedFile`, configPath)
  }
}

/** The loaded config around a validated `project` (from `configPath`, or the built-in defaults when null): its paths resolved and checked, frozen. */
export function completeConfig(sources: ConfigSources, configPath: string | null, project: ProjectConfig): LoadedConfig {
  const base = configPath ? dirname(configPath) : sources.cwd
  const templatesDir = project.templatesDir
    ? isAbsolute(project.templatesDir)
      ? project.templatesDir
      : resolve(base, project.templatesDir)
    : join(sources.packageRoot, 'templates')
  if (project.templatesDir && !existsSync(templatesDir)) {
    throw new ConfigError(`${configPath}: "templatesDir": ${templatesDir} does not exist.`, {
      hint: 'Point templatesDir at a directory of manifests, or remove it to use the built-in stack.',
    })
  }
  const databaseUrl = stateDatabaseUrl(sources.env)
  const migrationsDir = project.database.migrationsDir
    ? projectPath(base, project.database.migrationsDir, 'database.migrationsDir', configPath)
    : join(sources.packageRoot, 'templates', 'migrations')
  checkProjectPaths(project, base, configPath)
  return deepFreeze({project, configPath, templatesDir, seedsDir: join(sources.packageRoot, 'seeds'), projectDir: base, migrationsDir, databaseUrl})
}
