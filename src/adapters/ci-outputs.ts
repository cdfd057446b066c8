import {accessSync, appendFileSync, constants, statSync, writeFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {UsageError} from '../core/errors.js'
import type {Random} from '../core/ports.js'

/** What a CI job learns of a new demo: ids, URLs and the expiry. Never a secret. */
export interface CiValues {
  id: string
  namespace: string
  portalUrl: string
  candidateUrl: string
  expiresAt: string
}

/** GitHub step outputs (kebab-case, as in `steps.demo.outputs.portal-url`) and the KEY=value names of --output-env. */
const NAMES: ReadonlyArray<[field: keyof CiValues, output: string, env: string]> = [
  ['id', 'id', 'DEMO_ID'],
  ['namespace', 'namespace', 'DEMO_NAMESPACE'],
  ['portalUrl', 'portal-url', 'DEMO_PORTAL_URL'],
  ['candidateUrl', 'candidate-url', 'DEMO_CANDIDATE_URL'],
  ['expiresAt', 'expires-at', 'DEMO_EXPIRES_AT'],
]

/** Where create writes for CI: GitHub's GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and --output-env. */
export interface CiTargets {
  githubOutput?: string | undefined
  stepSummary?: string | undefined
  outputEnv?: string | undefined
}

export function ciTargets(env: NodeJS.ProcessEnv, outputEnv: string | undefined, cwd: string): CiTargets {
  const at = (path: string | undefined) => (path ? resolve(cwd, path) : undefined)
  return {githubOutput: at(env.GITHUB_OUTPUT), stepSummary: at(env.GITHUB_STEP_SUMMARY), outputEnv: at(outputEnv)}
}

function problemWith(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return 'it is a directory'
    accessSync(path, constants.W_OK)
    return undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return 'it is not writable'
  }
  try {
    if (!statSync(dirname(path)).isDirectory()) return `${dirname(path)} is not a directory`
    accessSync(dirname(path), constants.W_OK)
    return undefined
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? `the directory ${dirname(path)} does not exist` : `${dirname(path)} is not writable`
  }
}

/** Refuses (UsageError, exit 2) a target that cannot be written, before create changes anything. Creates no file. */
export function checkCiTargets(targets: CiTargets): void {
  const named: Array<[string | undefined, string]> = [
    [targets.outputEnv, '--output-env'],
    [targets.githubOutput, 'GITHUB_OUTPUT'],
    [targets.stepSummary, 'GITHUB_STEP_SUMMARY'],
  ]
  for (const [path, what] of named) {
    const problem = path ? problemWith(path) : undefined
    if (path && problem) {
      throw new UsageError(`Cannot write ${what} file ${path}: ${problem}. Nothing was created.`, {
        hint:
          what === '--output-env'
            ? 'Give --output-env a file in a writable directory, e.g. --output-env demo.env.'
            : `Unset ${what} or point it at a writable file.`,
      })
    }
  }
}

function hex(random: Random): string {
  return Buffer.from(random.bytes(16)).toString('hex')
}

/**
 * GitHub's multiline form (`name<<DELIMITER`): safe whatever a value holds, as long as the delimiter does not
 * occur in it, so a fresh random one is picked until it does not.
 * https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions#multiline-strings
 */
export function githubOutputLines(values: CiValues, random: Random): string {
  return NAMES.map(([field, output]) => {
    const value = values[field]
    let delimiter = `ghadelimiter_${hex(random)}`
    while (value.includes(delimiter)) delimiter = `ghadelimiter_${hex(random)}`
    return `${output}<<${delimiter}\n${value}\n${delimiter}\n`
  }).join('')
}

/** KEY=value lines (dotenv); a value with a line break or a quote cannot be one, and is refused. */
export function envLines(values: CiValues): string {
  return NAMES.map(([field, , env]) => {
    const value = values[field]
    if (/[\r\n"'\\]/.test(value)) throw new UsageError(`Cannot write ${env} as KEY=value: its value holds a line break or a quote.`)
    return `${env}=${value}\n`
  }).join('')
}

/** Appends the outputs to GITHUB_OUTPUT and the summary to GITHUB_STEP_SUMMARY (as GitHub wants), and writes --output-env afresh. */
export function writeCiOutputs(targets: CiTargets, values: CiValues, summary: string, random: Random): void {
  if (targets.githubOutput) appendFileSync(targets.githubOutput, githubOutputLines(values, random))
  if (targets.stepSummary) appendFileSync(targets.stepSummary, summary)
  if (targets.outputEnv) writeFileSync(targets.outputEnv, envLines(values))
}
