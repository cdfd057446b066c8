import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {JoinedWatch, ListWatch, Wakeups, type ListWatchSource} from '../../src/adapters/kubernetes/list-watch.js'

interface Obj {
  metadata: {name: string; resourceVersion: string}
  value: number
}

const obj = (name: string, resourceVersion: string, value = 0): Obj => ({metadata: {name, resourceVersion}, value})
/** Longer than any test may take: a next() that returns is one that news woke, not its resync timer. */
const NEVER_MS = 3_600_000

/** A scripted API server: lists what `items` holds, and hands each watch's callbacks to the test. */
class ScriptedSource implements ListWatchSource<Obj> {
  items: Obj[] = []
  listRv = '10'
  lists = 0
  failLists = 0
  readonly watches: Array<{from: string; emit: (type: string, o: Obj) => void; end: (error: unknown) => void; aborted: boolean}> = []
  private connected: (() => void) | undefined

  async list(): Promise<{items: Obj[]; resourceVersion: string}> {
    this.lists++
    if (this.failLists > 0) {
      this.failLists--
      throw new Error('connection refused')
    }
    return {items: this.items.map((o) => structuredClone(o)), resourceVersion: this.listRv}
  }

  async watch(from: string, onEvent: (type: string, o: Obj) => void, onDone: (error: unknown) => void): Promise<{abort(): void}> {
    const entry = {from, emit: onEvent, end: onDone, aborted: false}
    this.watches.push(entry)
    this.connected?.()
    return {
      abort: () => {
        entry.aborted = true
        onDone(null)
      },
    }
  }

  /** Resolves once `count` watches have been opened. */
  async watchesOpened(count: number): Promise<void> {
    while (this.watches.length < count) await new Promise<void>((resolve) => (this.connected = resolve))
  }

  get last() {
    const last = this.watches.at(-1)
    assert.ok(last, 'a watch is open')
    return last
  }
}

const names = (objects: Obj[]) => objects.map((o) => `${o.metadata.name}=${o.value}`).sort()

describe('ListWatch (the watch behind Cluster.watchDeployments / watchNamespace)', () => {
  it('answers the initial list, then each change as soon as the watch tells it, with no resync tick', async () => {
    const source = new ScriptedSource()
    source.items = [obj('api', '9')]
    const watch = new ListWatch(source, names, new AbortController().signal)
    assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: ['api=0']})
    await source.watchesOpened(1)
    assert.equal(source.last.from, '10', 'watches from the list’s resourceVersion')

    const pending = watch.next(NEVER_MS)
    source.last.emit('MODIFIED', obj('api', '11', 1))
    assert.deepEqual(await pending, {changed: true, value: ['api=1']})
    source.last.emit('ADDED', obj('web', '12'))
    source.last.emit('DELETED', obj('api', '13'))
    assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: ['web=0']})
    watch.close()
    await new Promise(setImmediate)
    assert.equal(source.last.aborted, true, 'close aborts the connection')
  })

  it('answers changed: false after maxWaitMs without news (the caller’s resync)', async () => {
    const source = new ScriptedSource()
    const watch = new ListWatch(source, names, new AbortController().signal)
    await watch.next(NEVER_MS)
    assert.deepEqual(await watch.next(1), {changed: false, value: []})
    watch.close()
  })

  it('reopens a watch the server closed from the last resourceVersion seen, without relisting, and keeps telling changes', async () => {
    const source = new ScriptedSource()
    const watch = new ListWatch(source, names, new AbortController().signal)
    await watch.next(NEVER_MS)
    await source.watchesOpened(1)
    source.last.emit('ADDED', obj('api', '15'))
    source.last.emit('BOOKMARK', obj('', '17'))
    await watch.next(NEVER_MS)
    source.last.end(null)
    await source.watchesOpened(2)
    assert.equal(source.last.from, '17')
    assert.equal(source.lists, 1)

    const pending = watch.next(NEVER_MS)
    source.last.emit('MODIFIED', obj('api', '18', 2))
    assert.deepEqual(await pending, {changed: true, value: ['api=2']})
    watch.close()
  })

  it('relists after an ERROR event (410 Gone) or a failed connection, and after failed lists, with backoff', async () => {
    const source = new ScriptedSource()
    const watch = new ListWatch(source, names, new AbortController().signal, {backoffMs: 1, maxBackoffMs: 2})
    await watch.next(NEVER_MS)
    await source.watchesOpened(1)
    source.last.emit('ERROR', obj('', ''))
    source.items = [obj('api', '30', 3)]
    source.listRv = '30'
    source.failLists = 2
    source.last.end(null)

    assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: ['api=3']})
    assert.equal(source.lists, 4, 'the first list, two failures, the relist')
    await source.watchesOpened(2)
    assert.equal(source.last.from, '30')

    source.items = [obj('web', '40')]
    source.listRv = '40'
    source.last.end(new Error('socket hang up'))
    assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: ['web=0']})
    watch.close()
  })

  it('retries a watch the server ends without telling anything by relisting, not in a tight loop', async () => {
    const source = new ScriptedSource()
    const watch = new ListWatch(source, names, new AbortController().signal, {backoffMs: 1, maxBackoffMs: 2})
    await watch.next(NEVER_MS)
    await source.watchesOpened(1)
    source.items = [obj('api', '20', 4)]
    source.listRv = '20'
    source.last.end(null)
    assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: ['api=4']})
    assert.equal(source.lists, 2)
    watch.close()
  })

  it('ends on abort: next() rejects with the signal’s reason, even mid-wait, and the connection is aborted', async () => {
    const source = new ScriptedSource()
    const controller = new AbortController()
    const watch = new ListWatch(source, names, controller.signal)
    await watch.next(NEVER_MS)
    await source.watchesOpened(1)
    const pending = watch.next(NEVER_MS)
    controller.abort(new Error('interrupted by SIGINT'))
    await assert.rejects(pending, /interrupted by SIGINT/)
    assert.equal(source.last.aborted, true)
    await assert.rejects(watch.next(NEVER_MS), /interrupted by SIGINT/)
    source.last.end(null)
    assert.equal(source.watches.length, 1, 'no watch is reopened after the end')
  })

  it('opens nothing for a signal that is already aborted', async () => {
    const source = new ScriptedSource()
    const watch = new ListWatch(source, names, AbortSignal.abort(new Error('gone')))
    await assert.rejects(watch.next(NEVER_MS), /gone/)
    assert.equal(source.lists, 0)
  })
})

describe('JoinedWatch (deployments and their ReplicaSets, read as one watch)', () => {
  function joined(signal = new AbortController().signal, firstItems: Obj[] = []) {
    const first = new ScriptedSource()
    first.items = firstItems
    const second = new ScriptedSource()
    const wakeups = new Wakeups()
    const a = new ListWatch(first, names, signal, {wakeups})
    const b = new ListWatch(second, names, signal, {wakeups})
    const watch = new JoinedWatch([a, b], (x, y) => ({first: x, second: y}), wakeups, signal)
    return {first, second, watch}
  }

  it('answers as soon as either part has news, with both parts’ views, and news is told once', async () => {
    const {first, second, watch} = joined(undefined, [obj('api', '9')])
    await first.watchesOpened(1)
    await second.watchesOpened(1)
    // Both first lists are in: one answer tells both.
    assert.deepEqual(await watch.next(NEVER_MS), {changed: true, value: {first: ['api=0'], second: []}})

    const pending = watch.next(NEVER_MS)
    second.last.emit('ADDED', obj('api-5d8f', '11', 1))
    assert.deepEqual(await pending, {changed: true, value: {first: ['api=0'], second: ['api-5d8f=1']}})
    const next = watch.next(NEVER_MS)
    first.last.emit('MODIFIED', obj('api', '12', 2))
    assert.deepEqual(await next, {changed: true, value: {first: ['api=2'], second: ['api-5d8f=1']}})
    assert.deepEqual(await watch.next(1), {changed: false, value: {first: ['api=2'], second: ['api-5d8f=1']}})
    watch.close()
    await new Promise(setImmediate)
    assert.equal(first.last.aborted && second.last.aborted, true, 'close ends both connections')
  })

  it('rejects with the signal’s reason on abort, even mid-wait', async () => {
    const controller = new AbortController()
    const {watch} = joined(controller.signal)
    await watch.next(NEVER_MS)
    const pending = watch.next(NEVER_MS)
    controller.abort(new Error('interrupted by SIGINT'))
    await assert.rejects(pending, /interrupted by SIGINT/)
  })
})
