import type {Checkpoint} from './core/ports.js'

/** A use case's cancellation: `signal` aborts on the first Ctrl-C, SIGTERM or SIGHUP. */
export interface Cancellation {
  signal: AbortSignal
  /** The demo the use case works on, once known: the second-interrupt message names it. */
  track(demoId: string): void
  dispose(): void
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

function signalName(name: NodeJS.Signals): string {
  if (name === 'SIGINT') return 'Ctrl-C'
  if (name === 'SIGHUP') return 'SIGHUP (terminal closed)'
  return name
}

/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) abort the returned signal once: the use case
 * stops after the step in flight and cleans up. A second one exits at once (130), leaving a row and
 * labelled objects for `demo destroy`.
 */
export function cancelOnSignals(note: (message: string) => void): Cancellation {
  const controller = new AbortController()
  let demoId: string | undefined
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      const destroy = demoId ? `\`demo destroy ${demoId}\`` : '`demo destroy <id>`'
      note(`Interrupted again: exiting now. ${destroy} removes what is left (\`demo list --status all\` shows it).`)
      process.exit(130)
    }
    note(`${signalName(name)}: cancelling; cleaning up what was created (Ctrl-C again to quit at once).`)
    controller.abort(new Error(`interrupted by ${signalName(name)}`))
  }
  for (const name of SIGNALS) process.on(name, onSignal)
  return {
    signal: controller.signal,
    track: (id) => {
      demoId = id
    },
    dispose: () => {
      for (const name of SIGNALS) process.off(name, onSignal)
    },
  }
}

/**
 * Test hooks: DEMO_TEST_KILL_AT=<checkpoint> SIGKILLs the process when a use case reaches that checkpoint
 * (record, namespace, database, secrets, services, ingress, wait; destroying, namespace-deleted; extend's
 * decided), so the end-to-end tests can prove that a crash at any step leaves state a later command can finish
 * or undo, and that a command paused mid-way meets what others did meanwhile.
 * DEMO_TEST_PAUSE_AT=<checkpoint> SIGSTOPs the process there instead: the test sees it stopped (state T in
 * /proc/<pid>/stat), breaks a component (pauses the API server, stops Postgres) and sends SIGCONT.
 */
export function killAtCheckpoint(env: NodeJS.ProcessEnv): Checkpoint {
  const killAt = env.DEMO_TEST_KILL_AT
  const pauseAt = env.DEMO_TEST_PAUSE_AT
  if (!killAt && !pauseAt) return () => {}
  return (name) => {
    if (name === killAt) process.kill(process.pid, 'SIGKILL')
    if (name === pauseAt) process.kill(process.pid, 'SIGSTOP')
  }
}
