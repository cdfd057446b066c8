import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {V1Namespace} from '@kubernetes/client-node'
import type {ListWatchSource} from '../../src/adapters/kubernetes/list-watch.js'
import {SharedNamespaceWatch} from '../../src/adapters/kubernetes/shared-namespace-watch.js'

/** Longer than any test may take: a next() that returns is one that news woke, not its timer. */
const NEVER_MS = 3_600_000

const ns = (name: string, resourceVersion: string): V1Namespace => ({metadata: {name, resourceVersion}})

/** A scripted API server for namespaces: lists `items`; each watch's callbacks are handed to the test. */
class Source implements ListWatchSource<V1Namespace> {
  items: V1Namespace[] = []
  lists = 0
  readonly watches: Array<{emit: (type: string, o: V1Namespace) => void; aborted: boolean}> = []

  async list(): Promise<{items: V1Namespace[]; resourceVersion: string}> {
    this.lists++
    return {items: this.items.map((o) => structuredClone(o)), resourceVersion: '10'}
  }

  async watch(_from: string, onEvent: (type: string, o: V1Namespace) => void, onDone: (error: unknown) => void): Promise<{abort(): void}> {
    const entry = {emit: onEvent, aborted: false}
    this.watches.push(entry)
    return {
      abort: () => {
        entry.aborted = true
        onDone(null)
      },
    }
  }

  get open() {
    return this.watches.filter((w) => !w.aborted)
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve))
}

describe('SharedNamespaceWatch (the watch behind KubernetesCluster.watchNamespace)', () => {
  it('serves many waiters from one watch, telling each only its own namespace, and stops when the last leaves', async () => {
    const source = new Source()
    source.items = Array.from({length: 50}, (_, i) => ns(`n${i}`, '1'))
    const shared = new SharedNamespaceWatch(source, {resyncMs: NEVER_MS})
    const signal = new AbortController().signal
    const watches = source.items.map((n) => shared.watch(n.metadata?.name ?? '', signal))
    for (const watch of watches) assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: {exists: true}})
    await until(() => source.watches.length === 1)
    assert.equal(source.lists, 1)
    // n7 goes: its waiter hears it; n8's waiter hears nothing (its next times out unchanged).
    source.watches[0]?.emit('DELETED', ns('n7', '2'))
    assert.deepEqual(await watches[7]?.next(NEVER_MS), {changed: true, value: {exists: false}})
    assert.deepEqual(await watches[8]?.next(0), {changed: false, value: {exists: true}})
    assert.equal(shared.cached('n7'), null)
    for (const watch of watches) watch.close()
    await until(() => source.open.length === 0)
    assert.equal(shared.cached('n8'), undefined, 'no cache once nobody waits: namespaceStatus reads the server')
    assert.equal(source.watches.length, 1)
  })

  it('relists every resync: a deletion the watch missed is still told', async () => {
    const source = new Source()
    source.items = [ns('a', '1'), ns('b', '1')]
    const shared = new SharedNamespaceWatch(source, {resyncMs: 20})
    const watch = shared.watch('a', new AbortController().signal)
    try {
      assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: {exists: true}})
      source.items = [ns('b', '1')]
      assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: {exists: false}})
      assert.ok(source.lists >= 2)
    } finally {
      watch.close()
    }
  })

  it('ends a waiter on abort: its waiting next() rejects with the signal’s reason, the others go on', async () => {
    const source = new Source()
    source.items = [ns('a', '1')]
    const shared = new SharedNamespaceWatch(source, {resyncMs: NEVER_MS})
    const controller = new AbortController()
    const aborted = shared.watch('a', controller.signal)
    const other = shared.watch('a', new AbortController().signal)
    await aborted.next(NEVER_MS)
    await other.next(NEVER_MS)
    const waiting = aborted.next(NEVER_MS)
    controller.abort(new Error('interrupted by SIGTERM'))
    await assert.rejects(waiting, /interrupted by SIGTERM/)
    assert.equal(source.open.length, 1)
    source.watches[0]?.emit('DELETED', ns('a', '2'))
    assert.deepEqual(await other.next(NEVER_MS), {changed: true, value: {exists: false}})
    other.close()
    await until(() => source.open.length === 0)
  })
})
