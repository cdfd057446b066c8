import type {V1Namespace} from '@kubernetes/client-node'
import type {Watch} from '../../core/ports.js'
import {ListWatch, Wakeups, type ListWatchSource} from './list-watch.js'

/** How often the shared namespace watch relists every namespace while anyone waits: the fallback should the watch miss a change. */
export const NAMESPACE_RESYNC_MS = 4_000

export interface SharedNamespaceWatchOptions {
  resyncMs?: number
  now?: () => number
}

/**
 * One watch over all namespaces (and a relist every NAMESPACE_RESYNC_MS) for every `watchNamespace` of the
 * adapter: gc waits for hundreds of namespaces at once, and a watch per namespace (an HTTPS connection each,
 * plus a status read of each every few seconds) took it to 623 MiB and ~100 GET/s (docs/benchmarks.md, gc).
 * Started by the first waiter, stopped when the last one leaves. Not label-selected: a namespace that loses
 * our labels must not look gone. `cached` answers namespaceStatus from the same cache while it is fresh.
 */
export class SharedNamespaceWatch {
  private readonly subscribers = new Map<string, Set<() => void>>()
  private session: Session | undefined

  constructor(
    private readonly source: ListWatchSource<V1Namespace>,
    private readonly options: SharedNamespaceWatchOptions = {},
  ) {}

  watch(name: string, signal: AbortSignal): Watch<{exists: boolean}> {
    return new NamespaceView(this, name, signal)
  }

  /** The namespace as the cache holds it (null: gone) while the cache is fresh and someone waits; undefined: read it yourself. */
  cached(name: string): V1Namespace | null | undefined {
    const session = this.session
    if (!session?.isFresh()) return undefined
    return session.namespaces.get(name) ?? null
  }

  /** @internal */
  subscribe(name: string, wake: () => void): () => void {
    const set = this.subscribers.get(name) ?? new Set()
    set.add(wake)
    this.subscribers.set(name, set)
    this.session ??= new Session(this.source, this.options, (names) => this.notify(names))
    return () => {
      set.delete(wake)
      if (set.size === 0) this.subscribers.delete(name)
      if (this.subscribers.size > 0) return
      this.session?.stop()
      this.session = undefined
    }
  }

  /** @internal */
  stamp(name: string): number | undefined {
    return this.session?.stamp(name)
  }

  /** @internal */
  exists(name: string): boolean {
    return this.session?.namespaces.has(name) ?? false
  }

  private notify(names: Iterable<string> | 'all'): void {
    const sets = names === 'all' ? [...this.subscribers.values()] : [...names].flatMap((n) => this.subscribers.get(n) ?? [])
    for (const set of sets) for (const wake of [...set]) wake()
  }
}

/** One run of the shared watch, from the first waiter to the last: a ListWatch, and a relist on a timer. */
class Session {
  namespaces = new Map<string, V1Namespace>()
  private readonly changedAt = new Map<string, number>()
  private sequence = 0
  private synced = false
  private freshAt = Number.NEGATIVE_INFINITY
  private readonly controller = new AbortController()
  private readonly resyncMs: number
  private readonly now: () => number

  constructor(
    private readonly source: ListWatchSource<V1Namespace>,
    options: SharedNamespaceWatchOptions,
    private readonly notify: (names: Iterable<string> | 'all') => void,
  ) {
    this.resyncMs = options.resyncMs ?? NAMESPACE_RESYNC_MS
    this.now = options.now ?? Date.now
    void this.pump()
  }

  stop(): void {
    this.controller.abort(new Error('no one waits for a namespace'))
  }

  /** A change counter of the namespace: undefined before the first list is in. */
  stamp(name: string): number | undefined {
    return this.synced ? (this.changedAt.get(name) ?? 0) : undefined
  }

  isFresh(): boolean {
    return this.synced && this.now() - this.freshAt < 2 * this.resyncMs
  }

  private async pump(): Promise<void> {
    const signal = this.controller.signal
    const watch = new ListWatch<V1Namespace, V1Namespace[]>(this.source, (items) => items, signal)
    let listedAt = this.now()
    while (!signal.aborted) {
      const due = listedAt + this.resyncMs - this.now()
      if (due <= 0) {
        listedAt = this.now()
        await this.relist(signal)
        continue
      }
      try {
        const seen = await watch.next(due)
        if (seen.changed) this.take(seen.value, !this.synced)
      } catch {
        return // aborted: the last waiter left
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    try {
      const {items} = await this.source.list()
      if (!signal.aborted) this.take(items, true)
    } catch {
      // The watch goes on; `cached` stops answering once the cache is no longer fresh, so reads go to the server.
    }
  }

  private take(items: V1Namespace[], listed: boolean): void {
    const next = new Map(items.map((n) => [n.metadata?.name ?? '', n]))
    const changed = changedNames(this.namespaces, next)
    this.sequence++
    for (const name of changed) this.changedAt.set(name, this.sequence)
    this.namespaces = next
    if (listed) this.freshAt = this.now()
    const first = !this.synced
    this.synced = true
    this.notify(first ? 'all' : changed)
  }
}

/** Names whose namespace came, went, or changed (another resourceVersion) from `before` to `after`. */
function changedNames(before: Map<string, V1Namespace>, after: Map<string, V1Namespace>): string[] {
  const changed: string[] = []
  for (const [name, namespace] of after) {
    if (before.get(name)?.metadata?.resourceVersion !== namespace.metadata?.resourceVersion) changed.push(name)
  }
  for (const name of before.keys()) if (!after.has(name)) changed.push(name)
  return changed
}

/** One waiter's view of the shared watch: the Watch contract of ports.ts, for one namespace. */
class NamespaceView implements Watch<{exists: boolean}> {
  private returned: number | undefined
  private closed = false
  private readonly wakeups = new Wakeups()
  private readonly unsubscribe: () => void
  private readonly onAbort = () => this.close()

  constructor(
    private readonly shared: SharedNamespaceWatch,
    private readonly name: string,
    private readonly signal: AbortSignal,
  ) {
    if (signal.aborted) {
      this.closed = true
      this.unsubscribe = () => undefined
      return
    }
    this.unsubscribe = shared.subscribe(name, () => this.wakeups.wake())
    signal.addEventListener('abort', this.onAbort, {once: true})
  }

  async next(maxWaitMs: number): Promise<{changed: boolean; value: {exists: boolean}}> {
    this.signal.throwIfAborted()
    if (!this.hasNews() && !this.closed) await this.wakeups.wait(maxWaitMs)
    this.signal.throwIfAborted()
    const changed = this.hasNews()
    if (changed) this.returned = this.shared.stamp(this.name)
    return {changed, value: {exists: this.shared.exists(this.name)}}
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.signal.removeEventListener('abort', this.onAbort)
    this.unsubscribe()
    this.wakeups.wake()
  }

  private hasNews(): boolean {
    if (this.closed) return false
    const stamp = this.shared.stamp(this.name)
    return stamp !== undefined && stamp !== this.returned
  }
}
