import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'

export interface RunResult {
  /** Wall time from spawn() to the child's exit and closed stdio, in milliseconds. */
  ms: number
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** CPU time (user + system) of the process and its children, in milliseconds; NaN without /usr/bin/time. */
  cpuMs: number
  /** Peak resident memory of the process (largest of it and its children), in MiB; NaN without /usr/bin/time. */
  maxRssMiB: number
}

/**
 * GNU time reports a child's CPU and peak RSS (getrusage); its line is taken off the child's stderr. It adds
 * one exec (~1 ms) to the wall time, the same for every command measured.
 */
const TIME = '/usr/bin/time'
const USAGE_MARK = '@@bench-usage'
const USAGE_LINE = /(?:^|\n)@@bench-usage ([\d.]+) ([\d.]+) (\d+)\n?$/

function splitUsage(stderr: string): {stderr: string; cpuMs: number; maxRssMiB: number} {
  const m = USAGE_LINE.exec(stderr)
  if (!m) return {stderr, cpuMs: Number.NaN, maxRssMiB: Number.NaN}
  // GNU time says "Command exited with non-zero status N" (or "terminated by signal") on the line before.
  const rest = stderr.slice(0, m.index).replace(/\n?Command (exited with non-zero status \d+|terminated by signal \d+)$/, '')
  return {stderr: rest, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, maxRssMiB: Number(m[3]) / 1024}
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Kill the child (SIGKILL) after this many milliseconds. */
  timeoutMs?: number
  input?: string
}

/** Spawns one process (no shell) and measures its wall time with a monotonic clock. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const timed = existsSync(TIME)
    const [file, argv] = timed ? [TIME, ['-f', `${USAGE_MARK} %U %S %M`, cmd, ...args]] : [cmd, [...args]]
    const started = process.hrtime.bigint()
    // A process group of its own, so a timeout kills the command and not only /usr/bin/time around it.
    const child = spawn(file, argv, {env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: timed})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const kill = () => {
      try {
        if (timed && child.pid) process.kill(-child.pid, 'SIGKILL')
        else child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
    const timer = options.timeoutMs ? setTimeout(kill, options.timeoutMs) : undefined
    child.on('error', (error) => {
      if (timer) clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (timer) clearTimeout(timer)
      const usage = splitUsage(Buffer.concat(err).toString('utf8'))
      resolve({ms, code, signal, stdout: Buffer.concat(out).toString('utf8'), ...usage})
    })
    // A process that exits without reading stdin (demo --help answers in ~90 ms) makes this write fail with EPIPE.
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
  })
}

/** Like run(), but throws with the command's stderr tail when it exits non-zero. */
export async function runOk(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, options)
  if (result.code !== 0) {
    throw new Error(`${[cmd, ...args].join(' ')} exited ${result.code ?? result.signal}: ${tail(result.stderr || result.stdout)}`)
  }
  return result
}

export function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n')
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i]!, i)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, () => worker()))
  return results
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}
