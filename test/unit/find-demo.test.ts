import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {Demo} from '../../src/core/demo.js'
import {NotFoundError, UsageError} from '../../src/core/errors.js'
import {chooseDemo, findDemo} from '../../src/core/find-demo.js'
import type {NewDemo} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../fakes/builders.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

async function storeWith(...demos: Array<Partial<NewDemo>>): Promise<MemoryDemoStore> {
  const store = new MemoryDemoStore()
  for (const overrides of demos) {
    const demo = aNewDemo(overrides)
    await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
  }
  return store
}

function at(minute: number): Date {
  return new Date(Date.UTC(2026, 10, 25, 12, minute))
}

async function usageErrorOf(promise: Promise<unknown>): Promise<UsageError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`)
    return error
  }
  assert.fail('expected the call to fail')
}

const found = async (store: MemoryDemoStore, ref: string): Promise<string> => (await findDemo(store, ref)).id

describe('findDemo', () => {
  it('finds a demo by its exact id', async () => {
    const store = await storeWith({id: 'k3x9a2bq'}, {id: 'k3x9zzzz'})
    assert.equal(await found(store, 'k3x9a2bq'), 'k3x9a2bq')
  })

  it('finds a demo by a unique id prefix of 3 or more characters', async () => {
    const store = await storeWith({id: 'k3x9a2bq'}, {id: 'p7mmmmmm'})
    assert.equal(await found(store, 'k3x'), 'k3x9a2bq')
    assert.equal(await found(store, 'k3x9a2b'), 'k3x9a2bq')
  })

  it('does not take 2 characters as an id prefix, and says so', async () => {
    const store = await storeWith({id: 'k3x9a2bq'})
    await assert.rejects(findDemo(store, 'k3'), (error: unknown) => {
      assert.ok(error instanceof NotFoundError)
      assert.match(error.hint ?? '', /^An id prefix needs at least 3 characters\. Run `demo list --status all`/)
      return true
    })
  })

  it('finds a demo by its name and by its namespace', async () => {
    const store = await storeWith({id: 'k3x9a2bq', name: 'sales-call'}, {id: 'p7mmmmmm', name: 'other'})
    assert.equal(await found(store, 'sales-call'), 'k3x9a2bq')
    assert.equal(await found(store, 'demo-k3x9a2bq'), 'k3x9a2bq')
  })

  it('lets an exact id win over a name and an id prefix that match other demos', async () => {
    const store = await storeWith(
      {id: 'abcdef', createdAt: at(1)},
      {id: 'abcdefgh', createdAt: at(2)},
      {id: 'q1111111', name: 'abcdef', createdAt: at(3)},
    )
    assert.equal(await found(store, 'abcdef'), 'abcdef')
  })

  it('lets an exact namespace win over a demo with that name', async () => {
    const store = await storeWith({id: 'k3x9a2bq'}, {id: 'p7mmmmmm', name: 'demo-k3x9a2bq'})
    assert.equal(await found(store, 'demo-k3x9a2bq'), 'k3x9a2bq')
  })

  it('refuses a name that several live demos share, listing them and hinting the exact id', async () => {
    const store = await storeWith(
      {id: 'k3x9a2bq', name: 'sales-call', status: 'ready', createdBy: 'alice@example.com', createdAt: at(1)},
      {id: 'p7mmmmmm', name: 'sales-call', status: 'creating', createdBy: 'bob@example.com', createdAt: at(2)},
    )
    const error = await usageErrorOf(findDemo(store, 'sales-call', (id) => `demo get ${id}`))
    assert.equal(error.exitCode, 2)
    assert.equal(
      error.message,
      [
        '"sales-call" could mean any of 2 demos:',
        '  p7mmmmmm  sales-call  creating  bob@example.com    created 2026-11-25 12:02 UTC',
        '  k3x9a2bq  sales-call  ready     alice@example.com  created 2026-11-25 12:01 UTC',
      ].join('\n'),
    )
    assert.equal(error.hint, 'Name one by its exact id: `demo get p7mmmmmm`.')
  })

  it('refuses an id prefix that several demos share', async () => {
    const store = await storeWith({id: 'k3x9a2bq'}, {id: 'k3x1aaaa'})
    const error = await usageErrorOf(findDemo(store, 'k3x'))
    assert.match(error.message, /^"k3x" could mean any of 2 demos:\n {2}k3x/)
    assert.match(error.hint ?? '', /^Name one by its exact id, e.g. "k3x/)
  })

  it('counts a name match and an id-prefix match of different demos as ambiguous', async () => {
    const store = await storeWith({id: 'abc12345'}, {id: 'q1111111', name: 'abc'})
    const error = await usageErrorOf(findDemo(store, 'abc'))
    assert.match(error.message, /any of 2 demos/)
  })

  it('prefers the one live demo when a name also matches destroyed ones', async () => {
    const store = await storeWith(
      {id: 'old00001', name: 'sales-call', status: 'destroyed', createdAt: at(1)},
      {id: 'live0001', name: 'sales-call', status: 'ready', createdAt: at(2)},
      {id: 'old00002', name: 'sales-call', status: 'failed', metadata: {cleanup: 'done'}, createdAt: at(3)},
    )
    assert.equal(await found(store, 'sales-call'), 'live0001')
  })

  it('counts a failed demo that kept its objects as live when choosing', async () => {
    const store = await storeWith(
      {id: 'kept0001', name: 'sales-call', status: 'failed', metadata: {cleanup: 'kept'}, createdAt: at(1)},
      {id: 'old00001', name: 'sales-call', status: 'failed', metadata: {cleanup: 'done'}, createdAt: at(2)},
    )
    assert.equal(await found(store, 'sales-call'), 'kept0001')
  })

  it('refuses a name shared only by demos that hold nothing any more (destroyed, failed and cleaned up), listing them', async () => {
    const store = await storeWith(
      {id: 'old00001', name: 'sales-call', status: 'destroyed', createdAt: at(1)},
      {id: 'old00002', name: 'sales-call', status: 'failed', createdAt: at(2)},
    )
    const error = await usageErrorOf(findDemo(store, 'sales-call'))
    assert.match(error.message, /any of 2 demos:\n {2}old00002 .*\n {2}old00001 /)
  })

  it('finds a destroyed demo that is the only match for its name', async () => {
    const store = await storeWith({id: 'old00001', name: 'sales-call', status: 'destroyed'})
    assert.equal(await found(store, 'sales-call'), 'old00001')
  })

  it('lists the first 20 and says there are 20 or more when a name matches more', async () => {
    const store = await storeWith(...Array.from({length: 21}, () => ({name: 'workshop', status: 'ready' as const})))
    const error = await usageErrorOf(findDemo(store, 'workshop'))
    assert.match(error.message, /^"workshop" could mean any of 20 or more demos \(the first 20\):\n/)
    assert.equal(error.message.split('\n').length, 21)
  })

  it('chooses among candidates alone, without asking the store', () => {
    const live = {...aNewDemo({id: 'live0001', name: 'x', status: 'ready'}), version: 1} as unknown as Demo
    assert.equal(chooseDemo('x', [live]), live)
    assert.equal(chooseDemo('y', [live]), undefined)
  })

  it('reports no match as NotFoundError naming the store, with a hint to list every demo', async () => {
    const store = await storeWith({id: 'k3x9a2bq'})
    await assert.rejects(findDemo(store, 'nosuchid'), (error: unknown) => {
      assert.ok(error instanceof NotFoundError)
      assert.equal(error.exitCode, 1)
      assert.equal(error.message, 'No demo matches "nosuchid" (by id, id prefix, name or namespace) in the memory store.')
      assert.equal(error.hint, 'Run `demo list --status all` to see every demo.')
      return true
    })
  })

  for (const ref of ['', ' ', 'Not-An-Id', 'k3x 9a2', 'sales_call', '-abc', 'a'.repeat(64)]) {
    it(`refuses ${JSON.stringify(ref)} as no possible reference, with exit 2`, async () => {
      const error = await usageErrorOf(findDemo(await storeWith(), ref))
      assert.equal(error.exitCode, 2)
      assert.equal(error.message, `"${ref}" is not a demo id, id prefix, name or namespace.`)
      assert.match(error.hint ?? '', /demo list/)
    })
  }
})
