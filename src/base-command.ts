import {Command, Flags, type Interfaces} from '@oclif/core'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {DemoError, ExitCode} from './core/errors.js'
import {Deps} from './deps.js'

export type DemoFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type DemoArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)))

function isDebug(env: NodeJS.ProcessEnv): boolean {
  return /(^|,)\s*demo\*?/.test(env.DEBUG ?? '')
}

/** Shared flags, --json, dependencies built once, errors rendered as one line with a hint and a documented exit code. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    config: Flags.string({description: 'Path to demo.config.yaml (default: searched upward from the working directory).', env: 'DEMO_CONFIG', helpGroup: 'GLOBAL'}),
  }

  protected flags!: DemoFlags<T>
  protected args!: DemoArgs<T>
  private built: Deps | undefined

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
  }

  protected get deps(): Deps {
    this.built ??= new Deps({
      cwd: process.cwd(),
      env: process.env,
      packageRoot: PACKAGE_ROOT,
      dataDir: this.config.dataDir,
      configFlag: this.flags.config,
      owner: (this.flags as {owner?: string}).owner,
      kubeconfig: (this.flags as {kubeconfig?: string}).kubeconfig,
      context: (this.flags as {context?: string}).context,
    })
    return this.built
  }

  /** Progress and notes go to stderr so stdout stays data (`--json | jq` always works). */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (!(error instanceof DemoError) && error.oclif) {
      // oclif's own --json rendering of a parse error serializes the whole error, config and package.json included.
      if (!this.jsonEnabled() || !error.oclif.exit) return super.catch(error)
      process.exitCode = error.oclif.exit
      this.logJson({error: oclifErrorReport(error, error.oclif.exit)})
      return undefined
    }
    const report = errorReport(error)
    process.exitCode = report.exitCode
    if (this.jsonEnabled()) {
      this.logJson({error: report})
      return undefined
    }
    process.stderr.write(`Error: ${report.message}\n`)
    if (report.hint) process.stderr.write(`Hint: ${report.hint}\n`)
    if (isDebug(process.env)) process.stderr.write(debugDetails(error))
    else if (!(error instanceof DemoError)) process.stderr.write('Run with DEBUG=demo* for details.\n')
    return undefined
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.built?.close()
    return super.finally(error)
  }
}

function debugDetails(error: Error): string {
  const cause = error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : error.cause === undefined ? '' : JSON.stringify(error.cause)
  return `${error.stack ?? ''}\n${cause ? `Caused by: ${cause}\n` : ''}`
}

/** A flag or argument oclif refused (unknown flag, missing argument, not an integer), in the --json error shape. */
function oclifErrorReport(error: Error, exitCode: number): ReturnType<typeof errorReport> {
  const lines = error.message.split('\n').map((line) => line.trim())
  const message = lines.filter((line) => line !== '' && !line.startsWith('See more help')).join(' ').replaceAll(/\s+/g, ' ')
  return {code: 'E_USAGE', message, hint: 'Run the command with --help to see its flags and arguments.', exitCode}
}

/** What the user sees of an error, in text or JSON: the code, the one-line message, the hint, the exit code. */
export function errorReport(error: Error): {code: string; message: string; hint: string | undefined; exitCode: number} {
  if (error instanceof DemoError) return {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode}
  return {code: 'E_UNEXPECTED', message: error.message, hint: undefined, exitCode: ExitCode.failed}
}
