/**
 * At most `limit` tasks working at once. A task that only waits (on Kubernetes, a namespace going away) gives its
 * lane up meanwhile (`idle`), and when the wait ends it gets a lane back before any task that has not started:
 * gc's `--concurrency` bounds the claims, deletes and row writes in flight, not how many namespaces it waits for,
 * so 200 deletions are all issued within seconds and then awaited together, as one `kubectl delete namespace`
 * with all names does (docs/benchmarks.md, gc).
 */
export class Lanes {
  private free: number
  private readonly resuming: Array<() => void> = []
  private readonly starting: Array<() => void> = []

  constructor(limit: number) {
    this.free = Math.max(1, Math.floor(limit))
  }

  /** Runs `work` in a lane, waiting for one when all are taken. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire(this.starting)
    try {
      return await work()
    } finally {
      this.release()
    }
  }

  /** Called from inside `run`: gives the lane up while `work` waits, then takes one back (ahead of tasks not started). */
  async idle<T>(work: () => Promise<T>): Promise<T> {
    this.release()
    try {
      return await work()
    } finally {
      await this.acquire(this.resuming)
    }
  }

  private acquire(queue: Array<() => void>): Promise<void> {
    if (this.free > 0) {
      this.free -= 1
      return Promise.resolve()
    }
    return new Promise((resolve) => queue.push(resolve))
  }

  private release(): void {
    const next = this.resuming.shift() ?? this.starting.shift()
    if (next) next()
    else this.free += 1
  }
}
