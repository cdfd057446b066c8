import {readFileSync} from 'node:fs'
import {load} from 'js-yaml'
import type {z} from 'zod'
import {ConfigError} from './core/errors.js'
import {projectConfigSchema, type ProjectConfig} from './core/project-config.js'
import {completeConfig, pickConfigPath, type ConfigSources, type LoadedConfig} from './config-files.js'

export {CONFIG_FILE_NAME, findConfigFile, projectPath, type ConfigSources, type LoadedConfig} from './config-files.js'

/** A value as the file holds it, short enough for one line of an error. */
function showValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value) ?? typeof value
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'a mapping',
}

function describeType(issue: z.core.$ZodIssueInvalidType): string {
  const wanted = TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`
  return issue.input === undefined ? `missing; it must be ${wanted}` : `${showValue(issue.input)} is not ${wanted}`
}

function describeNumberBound(value: string, isBig: boolean, bound: string, inclusive: boolean | undefined): string {
  if (inclusive === false) return `${value} must be ${isBig ? 'less' : 'more'} than ${bound}`
  return `${value} is ${isBig ? 'more than the maximum' : 'less than the minimum'} of ${bound}`
}

function describeBound(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const value = showValue(issue.input)
  const isBig = issue.code === 'too_big'
  const bound = String(isBig ? issue.maximum : issue.minimum)
  if (issue.origin === 'number') return describeNumberBound(value, isBig, bound, issue.inclusive)
  if (!isBig && bound === '1') return `${value} is empty`
  const unit = issue.origin === 'string' ? 'characters' : 'items'
  return `${value} has ${isBig ? 'more' : 'fewer'} than ${bound} ${unit}`
}

type IssueOf<C extends z.core.$ZodIssue['code']> = Extract<z.core.$ZodIssue, {code: C}>

/** What is wrong at one key, with the value found; the schema's own messages name what is allowed. */
const PROBLEMS: {[C in z.core.$ZodIssue['code']]?: (issue: IssueOf<C>) => string} = {
  invalid_type: describeType,
  too_big: describeBound,
  too_small: describeBound,
  invalid_format: (issue) => `${showValue(issue.input)} is not ${issue.message}`,
  invalid_value: (issue) => `${showValue(issue.input)} is not one of ${issue.values.map((v) => showValue(v)).join(', ')}`,
  invalid_key: (issue) => `the name ${showValue(issue.input)} is not ${issue.issues[0]?.message ?? 'allowed'}`,
  // The schema's strict objects write these messages: the unknown keys and the ones meant.
  unrecognized_keys: (issue) => issue.message,
  custom: (issue) => issue.message,
}

function describeProblem(issue: z.core.$ZodIssue): string {
  const describe = PROBLEMS[issue.code] as ((issue: z.core.$ZodIssue) => string) | undefined
  return describe ? describe(issue) : `${showValue(issue.input)}: ${issue.message}`
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)'
  return `"${key}": ${describeProblem(issue)}`
}

/** One problem on one line; several under a short first line, one per line. */
function describeIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  if (issues.length === 1) return `${file}: ${describeIssue(issues[0]!)}`
  return [`${file}: ${issues.length} problems:`, ...issues.map((issue) => `  ${describeIssue(issue)}`)].join('\n')
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
  // reportInput puts the value found into each issue, for the message.
  const result = projectConfigSchema.safeParse(raw, {reportInput: true})
  if (!result.success) {
    throw new ConfigError(describeIssues(file, result.error.issues), {hint: `Edit ${file}; README.md lists every key and its allowed values.`})
  }
  return result.data
}

/** Reads env, flags and demo.config.yaml once; validates; returns a frozen config. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const configPath = pickConfigPath(sources)
  return completeConfig(
    sources,
    configPath,
    parseProjectConfig(configPath ? readFileSync(configPath, 'utf8') : '', configPath ?? '(built-in defaults)'),
  )
}
