import {execa, type ResultPromise} from 'execa'
import {spawn, type ChildProcess} from 'node:child_process'
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {dump} from 'js-yaml'
import {tempDir} from './databases.js'

export const REPO_ROOT = join(import.meta.dirname, '../..')
export const BIN = join(REPO_ROOT, 'bin/run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A sandbox for the CLI: its own config file, state dir, preferences dir and identity. */
export interface CliSandbox {
  dir: string
  env: NodeJS.ProcessEnv
}

/**
 * A working directory with demo.config.yaml (`config` as YAML), and an environment that points the CLI at
 * it, at `databaseUrl` (or an embedded store in the sandbox), at the test cluster, and at nothing of the
 * user's own (~/.kube/config, preferences, git identity).
 */
export function cliSandbox(
  options: {config?: Record<string, unknown>; databaseUrl?: string; user?: string; editTemplates?: TemplateEdit} = {},
): CliSandbox {
  const dir = tempDir('demo-e2e-')
  const config = options.editTemplates ? {...options.config, templatesDir: copyTemplates(dir, options.editTemplates)} : (options.config ?? {})
  writeFileSync(join(dir, 'demo.config.yaml'), dump(config))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: process.env.DEMO_TEST_KUBECONFIG,
    DEMO_CONFIG: join(dir, 'demo.config.yaml'),
    DEMO_STATE_DIR: join(dir, 'state'),
    DEMO_PREFERENCES_DIR: join(dir, 'preferences'),
    DEMO_USER: options.user ?? 'alice@example.com',
    NO_COLOR: '1',
  }
  if (options.databaseUrl) env.DEMO_DATABASE_URL = options.databaseUrl
  return {dir, env}
}

/** Rewrites one template file's text (called for each built-in template). */
export type TemplateEdit = (name: string, text: string) => string

/** The built-in templates copied into `dir`, edited, for a `templatesDir` of a test's own. */
function copyTemplates(dir: string, edit: TemplateEdit): string {
  const target = join(dir, 'templates')
  cpSync(join(REPO_ROOT, 'templates'), target, {recursive: true})
  for (const name of ['namespace.yaml', 'network-policy.yaml', 'secret.yaml', 'service.yaml', 'ingress.yaml']) {
    const path = join(target, name)
    writeFileSync(path, edit(name, readFileSync(path, 'utf8')))
  }
  return target
}

export interface CliRun {
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /** Killed (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number
  /** What the child reads: nothing (default) or a pipe the test writes to. */
  stdin?: 'ignore' | 'pipe'
}

/**
 * The one way the tests start the built CLI (bin/run.js): execa, with exactly the environment given (nothing
 * of the developer's or CI's leaks in), never rejecting on a non-zero exit. `child` is the running process
 * (kill it, read its stderr as it comes); `result` is what it said and how it ended.
 */
export function startCli(run: CliRun): {child: ResultPromise; result: Promise<CliResult>} {
  const child = execa(process.execPath, [BIN, ...run.args], {
    cwd: run.cwd,
    env: run.env,
    extendEnv: false,
    reject: false,
    stdin: run.stdin ?? 'ignore',
    stripFinalNewline: false,
    timeout: run.timeoutMs ?? 600_000,
    forceKillAfterDelay: false,
  })
  const result = child.then((ended) => ({
    code: ended.exitCode ?? null,
    signal: ended.signal ?? null,
    stdout: String(ended.stdout ?? ''),
    stderr: String(ended.stderr ?? ''),
  }))
  return {child, result}
}

/** A CLI run stopped at its DEMO_TEST_PAUSE_AT checkpoint (src/signals.ts): `resume` sends SIGCONT. */
export interface PausedCli {
  pid: number
  result: Promise<CliResult>
  resume: () => void
}

/**
 * Starts `run` with DEMO_TEST_PAUSE_AT=<checkpoint> and resolves once the process has stopped itself there (state T
 * in /proc/<pid>/stat); fails the test, with the run's transcript, when it ends before reaching the checkpoint.
 */
export async function startPausedAt(run: CliRun, checkpoint: string): Promise<PausedCli> {
  const started = startCli({...run, env: {...run.env, DEMO_TEST_PAUSE_AT: checkpoint}})
  let ended = false
  const result = started.result.finally(() => {
    ended = true
  })
  const pid = started.child.pid ?? 0
  while (!ended && processState(pid) !== 'T') await sleep(100)
  if (ended) throw new Error(`\`demo ${run.args.join(' ')}\` ended before the "${checkpoint}" checkpoint:\n${transcript(await result)}`)
  return {pid, result, resume: () => process.kill(pid, 'SIGCONT')}
}

/** Starts `demo <args>` in a sandbox without waiting. */
export function startDemo(sandbox: CliSandbox, args: string[], extraEnv: NodeJS.ProcessEnv = {}): {child: ResultPromise; result: Promise<CliResult>} {
  return startCli({args, cwd: sandbox.dir, env: {...sandbox.env, ...extraEnv}})
}

/** Runs `demo <args>` in a sandbox to the end. */
export async function runDemo(sandbox: CliSandbox, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startDemo(sandbox, args, extraEnv).result
}

/** stdout parsed as JSON, with the whole result in the message when it is not JSON. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

/** For assertion messages: everything the CLI said. */
export function transcript(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`
}

/** The state letter of /proc/<pid>/stat (T: stopped), or undefined when the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/** A node script (TypeScript imports relative to the repo root) running in its own process; `until` waits for a line it prints. */
export function startScript(
  script: string,
  env: NodeJS.ProcessEnv,
): {child: ChildProcess; until: (line: string) => Promise<void>; exit: Promise<{code: number | null; output: string}>} {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: REPO_ROOT, env: {...process.env, ...env}})
  let output = ''
  const listeners = new Set<() => void>()
  const take = (chunk: Buffer) => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout.on('data', take)
  child.stderr.on('data', take)
  const exit = new Promise<{code: number | null; output: string}>((resolve) => child.on('close', (code) => resolve({code, output})))
  const until = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.split('\n').includes(line)) resolve()
      }
      listeners.add(check)
      check()
      void exit.then(({code}) => reject(new Error(`the script exited (${code}) before printing "${line}":\n${output}`)))
    })
  return {child, until, exit}
}
