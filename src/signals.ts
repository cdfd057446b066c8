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
 * Test hook: DEMO_TEST_KILL_AT=<checkpoint> SIGKILLs the process when a use case reaches that checkpoint
 * (record, namespace, database, secrets, services, ingress, wait; destroying, namespace-deleted), so the
 * end-to-end tests can prove that a crash at any step leaves state a later command can finish or undo.
 */
export function killAtCheckpoint(env: NodeJS.ProcessEnv): Checkpoint {
  const target = env.DEMO_TEST_KILL_AT
  if (!target) return () => {}
  return (name) => {
    if (name === target) process.kill(process.pid, 'SIGKILL')
  }
}
