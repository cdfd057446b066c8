import type {Clock, Sleeper, StepRunner} from '../../src/core/ports.js'

/** A Sleeper that advances a fake clock instead of waiting, and runs `onSleep` after each pause (to change the world mid-wait). */
export class FakeSleeper implements Sleeper {
  readonly slept: number[] = []
  onSleep: ((sleptMs: number, index: number) => void | Promise<void>) | undefined

  constructor(private readonly clock: Clock & {advance(ms: number): void}) {}

  /** Total fake time slept, in ms. */
  get totalMs(): number {
    return this.slept.reduce((sum, ms) => sum + ms, 0)
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    this.clock.advance(ms)
    this.slept.push(ms)
    await this.onSleep?.(ms, this.slept.length - 1)
    signal?.throwIfAborted()
  }
}

/**
 * A StepRunner that runs each step and remembers its title, and the titles of the steps that failed (as the
 * progress display would show them); with `tick`, each step also takes `tick.ms` of fake time.
 */
export class RecordingSteps implements StepRunner {
  readonly titles: string[] = []
  readonly failed: string[] = []
  /** The progress lines steps reported, in order. */
  readonly reports: string[] = []

  constructor(private readonly tick?: {clock: Clock & {advance(ms: number): void}; ms: number}) {}

  async run<T>(title: string, step: (report: (message: string) => void) => Promise<T>): Promise<T> {
    this.titles.push(title)
    this.tick?.clock.advance(this.tick.ms)
    try {
      return await step((message) => this.reports.push(message))
    } catch (error) {
      this.failed.push(title)
      throw error
    }
  }
}
