import {existsSync, readFileSync} from 'node:fs'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {load} from 'js-yaml'
import type {z} from 'zod'
import {ConfigError} from './core/errors.js'
import {projectConfigSchema, type ProjectConfig} from './core/project-config.js'
import {stateDatabaseUrl} from './state-url.js'

export const CONFIG_FILE_NAME = 'demo.config.yaml'

/** Everything the CLI reads from the outside world once, validated and frozen. */
export interface LoadedConfig {
  project: ProjectConfig
  /** The file the project config came from, or null for the built-in defaults. */
  configPath: string | null
  /** Absolute templates directory: the project's own, or the built-in one. */
  templatesDir: string
  seedsDir: string
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

function pickConfigPath(sources: ConfigSources): string | null {
  const explicit = sources.configFlag ?? sources.env.DEMO_CONFIG
  if (explicit) {
    const path = resolve(sources.cwd, explicit)
    if (!existsSync(path)) {
      throw new ConfigError(`Config file ${path} does not exist.`, {hint: 'Fix --config / DEMO_CONFIG, or remove it to use demo.config.yaml or the built-in stack.'})
    }
    return path
  }
  return findConfigFile(sources.cwd)
}

function describeIssue(file: string, issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)'
  return `${file}: "${key}": ${issue.message}`
}

/** Parses and validates one config file's text; errors name the file, the key and what is allowed. */
export function parseProjectConfig(text: string, file: string): ProjectConfig {
  let raw: unknown
  try {
    raw = text.trim() === '' ? {} : load(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new ConfigError(`${file} is not valid YAML: ${reason}`, {hint: 'Fix the YAML syntax at the line named above.', cause: error})
  }
  if (raw === null || raw === undefined) raw = {}
  const result = projectConfigSchema.safeParse(raw)
  if (!result.success) {
    const [first, ...rest] = result.error.issues
    const more = rest.length > 0 ? ` (and ${rest.length} more: ${rest.map((i) => i.path.join('.') || '(top level)').join(', ')})` : ''
    throw new ConfigError(`${describeIssue(file, first!)}${more}`, {hint: `Edit ${file}; README.md lists every key and its allowed values.`})
  }
  return result.data
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** Reads env, flags and demo.config.yaml once; validates; returns a frozen config. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const configPath = pickConfigPath(sources)
  const project = configPath ? parseProjectConfig(readFileSync(configPath, 'utf8'), configPath) : projectConfigSchema.parse({})
  const base = configPath ? dirname(configPath) : sources.cwd
  const templatesDir = project.templatesDir
    ? isAbsolute(project.templatesDir) ? project.templatesDir : resolve(base, project.templatesDir)
    : join(sources.packageRoot, 'templates')
  if (project.templatesDir && !existsSync(templatesDir)) {
    throw new ConfigError(`${configPath}: "templatesDir": ${templatesDir} does not exist.`, {hint: 'Point templatesDir at a directory of manifests, or remove it to use the built-in stack.'})
  }
  const databaseUrl = stateDatabaseUrl(sources.env)
  return deepFreeze({project, configPath, templatesDir, seedsDir: join(sources.packageRoot, 'seeds'), databaseUrl})
}
