import {setTimeout as sleepFor} from 'node:timers/promises'

/** How often and how long a Kubernetes call is retried. */
export interface RetryOptions {
  /** Attempts in total, the first one included. */
  attempts: number
  /**
   * Attempts in total while the server answers with a Retry-After (429 from API Priority and Fairness, a 503 of
   * an overloaded server): it is up, and asks for patience, not for giving up. client-go allows 10 (rest.Request's
   * maxRetries). The time budget still bounds them.
   */
  attemptsWhenAskedToWait: number
  /** Backoff ceiling of the first retry; doubles each retry up to maxDelayMs (full jitter below it). */
  baseDelayMs: number
  maxDelayMs: number
  /** A server's Retry-After is honoured up to this cap, so a misbehaving proxy cannot park the CLI. */
  maxRetryAfterMs: number
  /** No retry is started when it would begin later than this after the first attempt. */
  budgetMs: number
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  attempts: 6,
  attemptsWhenAskedToWait: 10,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxRetryAfterMs: 30_000,
  budgetMs: 90_000,
}

/** What to do after a failed attempt: give up, or retry (after at least `afterMs`, from Retry-After). */
export interface RetryDecision {
  retry: boolean
  afterMs?: number | undefined
}

/** Seams for tests: time, randomness and a report of each retry. */
export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  now?: () => number
  onRetry?: (info: {attempt: number; delayMs: number; error: unknown}) => void
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(max, base * 2^n)). */
export function backoffDelayMs(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry)
  return Math.floor(random() * ceiling)
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

function withDefaults(hooks: RetryHooks): Required<Pick<RetryHooks, 'sleep' | 'random' | 'now'>> {
  return {sleep: hooks.sleep ?? ((ms: number) => sleepFor(ms)), random: hooks.random ?? Math.random, now: hooks.now ?? Date.now}
}

/**
 * The wait before retry number `attempt`: the server's Retry-After (capped), if it sent one, plus the jittered
 * backoff. Added, not the larger of the two: a server that rejects a burst gives every request of it the same
 * Retry-After, and requests that all come back at that same instant are rejected together again (fault matrix T9).
 */
function retryDelayMs(attempt: number, decision: RetryDecision, options: RetryOptions, random: () => number): number {
  return Math.min(decision.afterMs ?? 0, options.maxRetryAfterMs) + backoffDelayMs(attempt - 1, options, random)
}

/** Whether attempt number `attempt` was the last one allowed for this decision. */
function outOfAttempts(attempt: number, decision: RetryDecision, options: RetryOptions): boolean {
  return attempt >= (decision.afterMs === undefined ? options.attempts : Math.max(options.attempts, options.attemptsWhenAskedToWait))
}

/**
 * Runs `call`, retrying while `decide` says so, within the attempts and the time budget. The wait before a
 * retry is the server's Retry-After (capped) plus the jittered backoff. Throws the last error.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  decide: (error: unknown) => RetryDecision,
  options: RetryOptions,
  hooks: RetryHooks = {},
): Promise<T> {
  const {sleep, random, now} = withDefaults(hooks)
  const startedAt = now()
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call()
    } catch (error) {
      const decision = decide(error)
      const delayMs = retryDelayMs(attempt, decision, options, random)
      const outOfTime = now() + delayMs - startedAt > options.budgetMs
      if (!decision.retry || outOfAttempts(attempt, decision, options) || outOfTime) throw error
      hooks.onRetry?.({attempt, delayMs, error})
      await sleep(delayMs)
    }
  }
}

/** Maps `items` through `worker` with at most `limit` in flight; stops starting new ones after the first failure and rethrows it. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  let failure: {error: unknown} | undefined
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next
      next += 1
      try {
        results[index] = await worker(items[index] as T)
      } catch (error) {
        failure ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, lane))
  if (failure) throw failure.error
  return results
}

/**
 * At most `limit` calls in flight; the others wait their turn in order. A call that fails as `overloaded` (a 429)
 * halves the limit, down to one; each `limit` successes in a row raise it by one again, up to `max`. This is the
 * additive-increase, multiplicative-decrease rule of TCP's congestion control: a server that sheds load gets less
 * of it from us at once, instead of the same burst again after each Retry-After (fault matrix T9).
 */
export class AdaptiveLimit {
  private limit: number
  private inFlight = 0
  private successes = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly max: number) {
    this.limit = Math.max(1, max)
  }

  /** Calls allowed in flight now. */
  get current(): number {
    return this.limit
  }

  async run<T>(call: () => Promise<T>, overloaded: (error: unknown) => boolean): Promise<T> {
    await this.acquire()
    try {
      const result = await call()
      this.succeeded()
      return result
    } catch (error) {
      if (overloaded(error)) {
        this.limit = Math.max(1, Math.floor(this.limit / 2))
        this.successes = 0
      }
      throw error
    } finally {
      this.release()
    }
  }

  private succeeded(): void {
    this.successes += 1
    if (this.successes < this.limit || this.limit >= this.max) return
    this.limit += 1
    this.successes = 0
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.limit && this.waiting.length === 0) {
      this.inFlight += 1
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** Hands the freed slot, and any the limit has gained since, to the calls waiting longest. */
  private release(): void {
    this.inFlight -= 1
    while (this.inFlight < this.limit && this.waiting.length > 0) {
      this.inFlight += 1
      this.waiting.shift()?.()
    }
  }
}
