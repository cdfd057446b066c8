/** A counting semaphore: `take` waits for a free slot (queue `later` after `first`), `give` hands it on. */
class Slots {
  private readonly first: Array<() => void> = []
  private readonly later: Array<() => void> = []

  constructor(private free: number) {}

  take(priority: 'first' | 'later'): Promise<void> {
    if (this.free > 0) {
      this.free -= 1
      return Promise.resolve()
    }
    return new Promise((resolve) => (priority === 'first' ? this.first : this.later).push(resolve))
  }

  give(): void {
    const next = this.first.shift() ?? this.later.shift()
    if (next) next()
    else this.free += 1
  }
}

/**
 * At most `limit` tasks working at once. A task that only waits (on Kubernetes, a namespace going away) gives its
 * lane up meanwhile (`idle`), and when the wait ends it gets a lane back before any task that has not started:
 * gc's `--concurrency` bounds the claims, deletes and row writes in flight, not how many namespaces it waits for,
 * so 200 deletions are all issued within seconds and then awaited together, as one `kubectl delete namespace`
 * with all names does (docs/benchmarks.md, gc). The waits are not capped: the Kubernetes adapter serves every
 * namespace wait from one shared watch (shared-namespace-watch.ts), so 200 cost what one does.
 */
export class Lanes {
  private readonly lanes: Slots

  constructor(limit: number) {
    this.lanes = new Slots(Math.max(1, Math.floor(limit)))
  }

  /** Runs `work` in a lane, waiting for one when all are taken. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.lanes.take('later')
    try {
      return await work()
    } finally {
      this.lanes.give()
    }
  }

  /** Called from inside `run`: gives the lane up while `work` waits, then takes one back (ahead of tasks not started). */
  async idle<T>(work: () => Promise<T>): Promise<T> {
    this.lanes.give()
    try {
      return await work()
    } finally {
      await this.lanes.take('first')
    }
  }
}
