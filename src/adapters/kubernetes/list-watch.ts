import type {Watch} from '../../core/ports.js'

/** One object of a watch stream: what the cache needs of it. */
export interface WatchedObject {
  metadata?: {name?: string; resourceVersion?: string}
}

/** How a ListWatch reaches the API server: the adapter's list and watch (transport.ts), or a test's stand-in. */
export interface ListWatchSource<O extends WatchedObject> {
  list(): Promise<{items: O[]; resourceVersion: string}>
  /**
   * Opens a watch from `resourceVersion`; `onEvent` gets each event (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR),
   * `onDone` is called once when the connection ends (by the server, an error, or abort()). Resolves once connected.
   */
  watch(resourceVersion: string, onEvent: (type: string, object: O) => void, onDone: (error: unknown) => void): Promise<{abort(): void}>
}

export interface ListWatchOptions {
  /** First delay before relisting after a failure; doubles up to maxBackoffMs. */
  backoffMs?: number
  maxBackoffMs?: number
  /** Woken on this watch's news and close, shared with the JoinedWatch that reads it; its own by default. */
  wakeups?: Wakeups
}

const DEFAULT_BACKOFF_MS = 200
const DEFAULT_MAX_BACKOFF_MS = 5_000

/**
 * The waiting half of a Watch's `next(maxWaitMs)`: `wait` resolves after `maxWaitMs`, or earlier when `wake`
 * is called (news arrived, or the watch closed). Leaves no timer behind.
 */
export class Wakeups {
  private readonly waiters = new Set<() => void>()

  wait(maxWaitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, maxWaitMs))
      this.waiters.add(done)
    })
  }

  wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/**
 * A cache of the objects a list and the watch after it tell, like client-go's reflector: list, then watch from
 * the list's resourceVersion; a watch the server closes is reopened from the last resourceVersion seen (events
 * and bookmarks move it); an ERROR event (410 Gone: that version is too old) or a failure relists, after a
 * backoff that doubles while failures go on. `next()` answers from the cache; its resync timer is the fallback.
 * Everything ends on close() or when the signal aborts: the open connection is aborted, no timer is left.
 */
export class ListWatch<O extends WatchedObject, T> implements Watch<T> {
  private readonly objects = new Map<string, O>()
  private synced = false
  private version = 0
  private returned = -1
  private resourceVersion = ''
  private closed = false
  private connection: Promise<{abort(): void}> | undefined
  private readonly wakeups: Wakeups
  private failures = 0
  /** Events the current connection brought: one the server ends without any is retried with backoff. */
  private eventsOnConnection = 0
  private retryTimer: NodeJS.Timeout | undefined
  private readonly onAbort = () => this.close()

  constructor(
    private readonly source: ListWatchSource<O>,
    private readonly project: (objects: O[]) => T,
    private readonly signal: AbortSignal,
    private readonly options: ListWatchOptions = {},
  ) {
    this.wakeups = options.wakeups ?? new Wakeups()
    if (signal.aborted) {
      this.closed = true
      return
    }
    signal.addEventListener('abort', this.onAbort, {once: true})
    void this.relist()
  }

  async next(maxWaitMs: number): Promise<{changed: boolean; value: T}> {
    this.signal.throwIfAborted()
    if (!this.hasNews()) await this.wakeups.wait(maxWaitMs)
    this.signal.throwIfAborted()
    return this.take()
  }

  /** The view now, without waiting: `changed` as next() would say it (and the news is taken). */
  take(): {changed: boolean; value: T} {
    const changed = this.hasNews()
    if (changed) this.returned = this.version
    return {changed, value: this.project([...this.objects.values()])}
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.signal.removeEventListener('abort', this.onAbort)
    clearTimeout(this.retryTimer)
    void this.connection?.then(
      (c) => c.abort(),
      () => undefined,
    )
    this.connection = undefined
    this.wakeups.wake()
  }

  /** Whether the cache changed since the last next() or take() (never before the first list is in). */
  hasNews(): boolean {
    return this.synced && this.version !== this.returned
  }

  private changed(): void {
    this.version++
    this.wakeups.wake()
  }

  private async relist(): Promise<void> {
    if (this.closed) return
    try {
      const {items, resourceVersion} = await this.source.list()
      if (this.closed) return
      this.objects.clear()
      for (const item of items) this.objects.set(nameOf(item), item)
      this.resourceVersion = resourceVersion
      this.synced = true
      this.changed()
      await this.rewatch()
    } catch {
      this.retryLater()
    }
  }

  private async rewatch(): Promise<void> {
    if (this.closed) return
    this.eventsOnConnection = 0
    const connection = this.source.watch(
      this.resourceVersion,
      (type, object) => this.onEvent(type, object),
      (error) => this.onDone(connection, error),
    )
    this.connection = connection
    try {
      await connection
    } catch (error) {
      if (this.connection === connection) this.connection = undefined
      throw error
    }
  }

  private onEvent(type: string, object: O): void {
    if (this.closed) return
    const resourceVersion = object.metadata?.resourceVersion
    if (type === 'ERROR') {
      // Usually 410 Gone: the version we asked for is compacted away. Relisting is the cure.
      this.resourceVersion = ''
      return
    }
    if (resourceVersion) this.resourceVersion = resourceVersion
    this.eventsOnConnection++
    this.failures = 0
    if (type === 'BOOKMARK') return
    if (type === 'DELETED') this.objects.delete(nameOf(object))
    else this.objects.set(nameOf(object), object)
    this.changed()
  }

  private onDone(connection: Promise<{abort(): void}>, error: unknown): void {
    if (this.closed || this.connection !== connection) return
    this.connection = undefined
    // The server ends every watch after a while (timeoutSeconds); reopen where it stopped. One that ended
    // without telling anything (a proxy that cuts connections at once, say) is retried with backoff instead,
    // so a misbehaving server never gets a tight loop.
    if (!error && this.resourceVersion !== '' && this.eventsOnConnection > 0) void this.rewatch().catch(() => this.retryLater())
    else this.retryLater()
  }

  private retryLater(): void {
    if (this.closed) return
    const {backoffMs = DEFAULT_BACKOFF_MS, maxBackoffMs = DEFAULT_MAX_BACKOFF_MS} = this.options
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** this.failures)
    this.failures++
    this.retryTimer = setTimeout(() => void this.relist(), delay)
    this.retryTimer.unref()
  }
}

function nameOf(object: WatchedObject): string {
  return object.metadata?.name ?? ''
}

/** What JoinedWatch needs of a ListWatch. */
type JoinablePart<T> = Pick<ListWatch<WatchedObject, T>, 'hasNews' | 'take' | 'close'>

/**
 * Two ListWatches read as one Watch (a Deployment's state needs its ReplicaSets too): next() answers as soon as
 * either has news, with `project` of both caches (one whose first list is not in yet counts as empty). Both must be
 * built with this watch's `wakeups`; close() closes both.
 */
export class JoinedWatch<A, B, T> implements Watch<T> {
  constructor(
    private readonly parts: readonly [JoinablePart<A>, JoinablePart<B>],
    private readonly project: (a: A, b: B) => T,
    private readonly wakeups: Wakeups,
    private readonly signal: AbortSignal,
  ) {}

  async next(maxWaitMs: number): Promise<{changed: boolean; value: T}> {
    this.signal.throwIfAborted()
    const [a, b] = this.parts
    if (!a.hasNews() && !b.hasNews()) await this.wakeups.wait(maxWaitMs)
    this.signal.throwIfAborted()
    const first = a.take()
    const second = b.take()
    return {changed: first.changed || second.changed, value: this.project(first.value, second.value)}
  }

  close(): void {
    for (const part of this.parts) part.close()
  }
}
