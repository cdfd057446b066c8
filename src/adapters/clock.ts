import type {Clock, DemoStore} from '../core/ports.js'

/**
 * This machine's clock. DEMO_TEST_CLOCK_OFFSET_MS, a test hook, moves it by that many milliseconds, so a test
 * can run the real process as a machine whose clock is off (fault matrix T21).
 */
export function machineClock(env: NodeJS.ProcessEnv): Clock {
  const offsetMs = Number(env.DEMO_TEST_CLOCK_OFFSET_MS ?? 0)
  if (!Number.isFinite(offsetMs) || offsetMs === 0) return {now: () => new Date()}
  return {now: () => new Date(Date.now() + offsetMs)}
}

/**
 * The state database's clock, kept as an offset from the machine's: every expiry decision (extend's bounds and
 * "expired", "expires in", what gc destroys) then agrees with every other machine using the same store, however
 * far off this one's clock is. Until `sync` it is the machine's clock. The offset is measured once, with one
 * query; it errs by that query's return trip (milliseconds), never by the machine's skew.
 */
export class DatabaseClock implements Clock {
  private offsetMs = 0

  constructor(private readonly machine: Clock) {}

  now(): Date {
    return new Date(this.machine.now().getTime() + this.offsetMs)
  }

  /** Measures the offset of the store's clock from the machine's. Throws what the store throws. */
  async sync(store: Pick<DemoStore, 'now'>): Promise<void> {
    const databaseNow = await store.now()
    this.offsetMs = databaseNow.getTime() - this.machine.now().getTime()
  }
}
