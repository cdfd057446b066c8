import {Command, Errors, Flags, ux, type Interfaces} from '@oclif/core'
import {format} from 'node:util'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {DemoError, ExitCode} from './core/errors.js'
import {discardEarlyStore} from './adapters/postgres/open-store.js'
import {makeDeps, type Deps, type IO} from './deps.js'
import {closestMatch} from './core/edit-distance.js'
import {guardProcessStreams} from './process-streams.js'

export type DemoFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type DemoArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)))

function isDebug(env: NodeJS.ProcessEnv): boolean {
  return /(^|,)\s*demo\*?/.test(env.DEBUG ?? '')
}

const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'] as const
type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** Shared flags, --json, dependencies built once, errors rendered as one line with a hint and a documented exit code. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    config: Flags.string({
      description: 'Path to demo.config.yaml (default: searched upward from the working directory).',
      env: 'DEMO_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    output: Flags.option({
      char: 'o',
      options: OUTPUT_FORMATS,
      description: 'Output format: json (same as --json), yaml, name (ids only, one per line), wide (list: more columns).',
      helpGroup: 'GLOBAL',
    })(),
  }

  /**
   * An exit code for a run that succeeded but has news for a script (`demo health`: 4 degraded, 5 unhealthy):
   * the result (or its --json document) is printed first, then the process ends with this code.
   */
  protected resultExitCode: number | undefined

  protected flags!: DemoFlags<T>
  protected args!: DemoArgs<T>
  private built: Deps | undefined
  /** Warnings oclif gives while parsing (deprecated flags), before the command's streams exist. */
  private readonly earlyWarnings: string[] = []
  /** js-yaml, loaded in init only for -o yaml (list and get must not pay for it otherwise). */
  private yaml: typeof import('js-yaml') | undefined

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as DemoFlags<T>
    this.args = args as DemoArgs<T>
    if (this.output === 'yaml') this.yaml = await import('js-yaml')
    for (const warning of this.earlyWarnings.splice(0)) this.deps.io.stderr.write(`Warning: ${warning}\n`)
    this.deps.checkConfigFlag()
  }

  protected override async _run<R>(): Promise<R> {
    const result = await super._run<R>()
    if (this.resultExitCode) Errors.exit(this.resultExitCode)
    return result
  }

  protected get deps(): Deps {
    // Also reached from catch() after a parse error, before flags exist.
    const flags = (this.flags ?? {}) as {config?: string; owner?: string; kubeconfig?: string; context?: string}
    this.built ??= makeDeps({
      cwd: process.cwd(),
      env: process.env,
      io: processIO(),
      packageRoot: PACKAGE_ROOT,
      dataDir: this.config.dataDir,
      cacheDir: this.config.cacheDir,
      configFlag: flags.config,
      owner: flags.owner,
      kubeconfig: flags.kubeconfig,
      context: flags.context,
    })
    return this.built
  }

  /** -o, once flags are parsed (undefined before, e.g. in catch after a parse error). */
  protected get output(): OutputFormat | undefined {
    return (this.flags as {output?: OutputFormat} | undefined)?.output
  }

  /** -o json, yaml and name print the result document (and no human text), as --json does. */
  override jsonEnabled(): boolean {
    const format = this.output
    return format === 'json' || format === 'yaml' || format === 'name' || super.jsonEnabled()
  }

  /** Data goes to the command's stdout (the injected stream, not oclif's global one). */
  override log(message = '', ...args: unknown[]): void {
    if (this.jsonEnabled()) return
    this.deps.io.stdout.write(`${format(message, ...args)}\n`)
  }

  /** The result (or error) document, in the format of -o: JSON by default, YAML, or names only. */
  override logJson(json: unknown): void {
    const {stdout} = this.deps.io
    const names = this.output === 'name' ? namesOf(json) : undefined
    if (names) stdout.write(names.map((name) => `${name}\n`).join(''))
    else if (this.output === 'yaml' && this.yaml) stdout.write(this.yaml.dump(json, {noRefs: true, lineWidth: -1}))
    else stdout.write(`${ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})}\n`)
  }

  /**
   * Warnings (oclif's deprecation notices among them) go to stderr also with --json, where oclif drops them:
   * stderr is for notes, and a script that uses a deprecated spelling is the one that must hear about it.
   */
  override warn(input: string | Error): string | Error {
    const text = typeof input === 'string' ? input : input.message
    if (this.flags === undefined) this.earlyWarnings.push(text)
    else this.deps.io.stderr.write(`Warning: ${text}\n`)
    return input
  }

  /** Progress and notes go to stderr so stdout stays data (`--json | jq` always works). */
  protected note(message: string): void {
    if (!this.jsonEnabled()) this.deps.io.stderr.write(`${message}\n`)
  }

  /**
   * Renders the error (one line and a hint, or the --json error document) and exits with its documented
   * code by throwing oclif's ExitError, so the exit code is oclif's to set and in-process tests see it.
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- oclif's catch is async; this one decides synchronously.
  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (!(error instanceof DemoError) && error.oclif) {
      const suggestion = this.suggestFlag(error)
      // oclif's own --json rendering of a parse error serializes the whole error, config and package.json included.
      if (!this.jsonEnabled() || !error.oclif.exit) {
        if (suggestion) error.message = `${error.message}\n${suggestion}`
        throw error
      }
      this.logJson({error: oclifErrorReport(error, error.oclif.exit, suggestion)})
      return Errors.exit(error.oclif.exit)
    }
    const report = errorReport(error)
    // -o name has no error document: names go to stdout, the error to stderr as text.
    if (this.jsonEnabled() && this.output !== 'name') this.logJson({error: report})
    else this.printError(error, report)
    return Errors.exit(report.exitCode)
  }

  /** "Did you mean --status?" for a mistyped flag (oclif's NonExistentFlagsError carries the flags it did not know). */
  private suggestFlag(error: Error): string | undefined {
    const unknown = (error as {flags?: unknown}).flags
    if (!Array.isArray(unknown)) return undefined
    const known = Object.keys({...this.ctor.flags, ...(this.ctor as typeof BaseCommand).baseFlags, json: true})
    const matches = unknown.flatMap((flag) => {
      const match = closestMatch(String(flag).replace(/^-+/, '').split('=')[0] ?? '', known)
      return match ? [`--${match}`] : []
    })
    return matches.length > 0 ? `Did you mean ${matches.join(', ')}?` : undefined
  }

  private printError(error: Error, report: ReturnType<typeof errorReport>): void {
    const {stderr} = this.deps.io
    stderr.write(`Error: ${report.message}\n`)
    if (report.hint) stderr.write(`Hint: ${report.hint}\n`)
    if (isDebug(this.deps.env)) stderr.write(debugDetails(error))
    else if (!(error instanceof DemoError)) stderr.write('Run with DEBUG=demo* for details.\n')
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.built?.close()
    await discardEarlyStore()
    return super.finally(error)
  }
}

/**
 * What -o name prints of a result: the ids of a list, the id of one demo, kind/name of manifests (as kubectl
 * does). Undefined for anything else (an error document, a preference), which then prints as JSON.
 */
function namesOf(json: unknown): string[] | undefined {
  if (json === null || typeof json !== 'object') return undefined
  const doc = json as {demos?: Array<{id: string}>; id?: unknown; manifests?: Array<{kind: string; metadata: {name: string}}>}
  if (Array.isArray(doc.demos)) return doc.demos.map((d) => d.id)
  if (typeof doc.id === 'string') return [doc.id]
  if (Array.isArray(doc.manifests)) return doc.manifests.map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`)
  return undefined
}

/** The process's streams, guarded against a closed pipe (src/process-streams.ts). */
function processIO(): IO {
  guardProcessStreams()
  return {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin}
}

function debugDetails(error: Error): string {
  const cause =
    error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : error.cause === undefined ? '' : JSON.stringify(error.cause)
  return `${error.stack ?? ''}\n${cause ? `Caused by: ${cause}\n` : ''}`
}

/** A flag or argument oclif refused (unknown flag, missing argument, not an integer), in the --json error shape. */
function oclifErrorReport(error: Error, exitCode: number, suggestion?: string): ReturnType<typeof errorReport> {
  const lines = error.message.split('\n').map((line) => line.trim())
  const message = lines
    .filter((line) => line !== '' && !line.startsWith('See more help'))
    .join(' ')
    .replaceAll(/\s+/g, ' ')
  return {
    code: 'E_USAGE',
    message,
    hint: `${suggestion ? `${suggestion} ` : ''}Run the command with --help to see its flags and arguments.`,
    exitCode,
  }
}

/** What the user sees of an error, in text or JSON: the code, the one-line message, the hint, the exit code. */
export function errorReport(error: Error): {code: string; message: string; hint: string | undefined; exitCode: number} {
  if (error instanceof DemoError) return {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode}
  return {code: 'E_UNEXPECTED', message: error.message, hint: undefined, exitCode: ExitCode.failed}
}
