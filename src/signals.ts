import type {Checkpoint} from './core/ports.js'

/**
 * Ctrl-C (SIGINT) and SIGTERM abort the returned signal once: the use case stops after the step in flight
 * and cleans up. A second Ctrl-C exits at once (130), leaving a row and labelled objects for `demo destroy`.
 */
export function cancelOnSignals(note: (message: string) => void): {signal: AbortSignal; dispose: () => void} {
  const controller = new AbortController()
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      note('Interrupted again: exiting now. `demo list --status all` shows what is left; `demo destroy <id>` removes it.')
      process.exit(130)
    }
    note(`${name}: cancelling; cleaning up what was created (Ctrl-C again to quit at once).`)
    controller.abort(new Error(`interrupted by ${name}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
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
