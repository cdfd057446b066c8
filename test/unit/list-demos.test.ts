import assert from 'node:assert/strict'
import {before, describe, it} from 'node:test'
import type {DemoStatus} from '../../src/core/demo.js'
import {UsageError} from '../../src/core/errors.js'
import {listDemos, MAX_PAGE_SIZE, type ListRequest} from '../../src/core/list-demos.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../fakes/builders.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

const store = new MemoryDemoStore()

async function add(id: string, status: DemoStatus, extra: {createdBy?: string; demoType?: string; minute: number}): Promise<void> {
  const demo = aNewDemo({
    id,
    status,
    createdBy: extra.createdBy ?? 'alice@example.com',
    demoType: extra.demoType ?? 'startup',
    createdAt: new Date(Date.UTC(2026, 10, 25, 12, extra.minute)),
  })
  await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
}

function req(overrides: Partial<ListRequest> = {}): ListRequest {
  return {status: ['live'], limit: 25, page: 1, ...overrides}
}

const ids = async (overrides: Partial<ListRequest>) => (await listDemos(store, req(overrides))).items.map((d) => d.id)

describe('listDemos', () => {
  before(async () => {
    await add('creating1', 'creating', {minute: 1})
    await add('readyaaa1', 'ready', {minute: 2, demoType: 'enterprise'})
    await add('degraded1', 'degraded', {minute: 3, createdBy: 'bob@example.com'})
    await add('destroyng', 'destroying', {minute: 4})
    await add('destroyed', 'destroyed', {minute: 5, createdBy: 'bob@example.com'})
    await add('failedaa1', 'failed', {minute: 6, demoType: 'enterprise'})
  })

  it('shows live demos by default, newest first', async () => {
    assert.deepEqual(await ids({}), ['destroyng', 'degraded1', 'readyaaa1', 'creating1'])
  })

  it('shows every demo with "all"', async () => {
    const page = await listDemos(store, req({status: ['all']}))
    assert.equal(page.total, 6)
    assert.deepEqual(
      page.items.map((d) => d.id),
      ['failedaa1', 'destroyed', 'destroyng', 'degraded1', 'readyaaa1', 'creating1'],
    )
  })

  it('combines several statuses', async () => {
    assert.deepEqual(await ids({status: ['failed', 'destroyed']}), ['failedaa1', 'destroyed'])
    assert.deepEqual(await ids({status: ['live', 'failed']}), ['failedaa1', 'destroyng', 'degraded1', 'readyaaa1', 'creating1'])
  })

  it('filters by owner and by type, together with status', async () => {
    assert.deepEqual(await ids({status: ['all'], createdBy: 'bob@example.com'}), ['destroyed', 'degraded1'])
    assert.deepEqual(await ids({createdBy: 'bob@example.com'}), ['degraded1'])
    assert.deepEqual(await ids({status: ['all'], demoType: 'enterprise'}), ['failedaa1', 'readyaaa1'])
    assert.deepEqual(await ids({demoType: 'recruiting-agency'}), [])
  })

  it('pages through the rows and reports the total and the paging it used', async () => {
    const first = await listDemos(store, req({status: ['all'], limit: 4, page: 1}))
    const second = await listDemos(store, req({status: ['all'], limit: 4, page: 2}))
    const third = await listDemos(store, req({status: ['all'], limit: 4, page: 3}))
    assert.deepEqual(
      first.items.map((d) => d.id),
      ['failedaa1', 'destroyed', 'destroyng', 'degraded1'],
    )
    assert.deepEqual(
      second.items.map((d) => d.id),
      ['readyaaa1', 'creating1'],
    )
    assert.deepEqual(third.items, [])
    assert.deepEqual([first.total, first.page, first.limit, second.page], [6, 1, 4, 2])
  })

  it(`accepts a limit of ${MAX_PAGE_SIZE}`, async () => {
    assert.equal((await listDemos(store, req({limit: MAX_PAGE_SIZE}))).limit, 100)
  })

  for (const limit of [MAX_PAGE_SIZE + 1, 0, -5, 2.5]) {
    it(`refuses --limit ${limit} with a usage error and a hint`, async () => {
      await assert.rejects(listDemos(store, req({limit})), (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.exitCode, 2)
        assert.equal(error.message, `--limit must be between 1 and 100, got ${limit}.`)
        assert.match(error.hint ?? '', /--page/)
        return true
      })
    })
  }

  for (const page of [0, -1, 1.5]) {
    it(`refuses --page ${page}`, async () => {
      await assert.rejects(
        listDemos(store, req({page})),
        (error: unknown) => error instanceof UsageError && error.message === `--page must be 1 or more, got ${page}.`,
      )
    })
  }

  it('refuses an unknown status, listing the allowed ones', async () => {
    await assert.rejects(listDemos(store, req({status: ['running']})), (error: unknown) => {
      assert.ok(error instanceof UsageError)
      assert.equal(error.message, 'Unknown status "running".')
      assert.match(error.hint ?? '', /live, all, creating, ready, degraded, destroying, destroyed, failed/)
      return true
    })
  })
})

describe('listDemos: failed demos that still hold objects', () => {
  const leftovers = new MemoryDemoStore()

  before(async () => {
    const rows = [
      {id: 'readyaaa1', status: 'ready', metadata: {}},
      {id: 'failkept1', status: 'failed', metadata: {cleanup: 'kept'}},
      {id: 'failincp1', status: 'failed', metadata: {cleanup: 'incomplete'}},
      {id: 'faildone1', status: 'failed', metadata: {cleanup: 'done'}},
      {id: 'failolder', status: 'failed', metadata: {}},
      {id: 'destroyed', status: 'destroyed', metadata: {cleanup: 'kept'}},
    ] as const
    for (const [i, row] of rows.entries()) {
      const demo = aNewDemo({
        ...row,
        metadata: {...row.metadata},
        createdBy: i % 2 ? 'bob@example.com' : 'alice@example.com',
        createdAt: new Date(Date.UTC(2026, 10, 25, 12, i)),
      })
      await leftovers.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    }
  })

  const idsOf = async (overrides: Partial<ListRequest>) => (await listDemos(leftovers, req(overrides))).items.map((d) => d.id)

  it('shows by default failed demos whose namespace was kept or not fully removed, and not the cleaned-up ones', async () => {
    const page = await listDemos(leftovers, req({}))
    assert.deepEqual(
      page.items.map((d) => d.id),
      ['failincp1', 'failkept1', 'readyaaa1'],
    )
    assert.equal(page.total, 3)
  })

  it('keeps the other filters on them', async () => {
    assert.deepEqual(await idsOf({createdBy: 'bob@example.com'}), ['failkept1'])
  })

  it('shows them with "live" among other statuses, but not for a single other status', async () => {
    assert.deepEqual(await idsOf({status: ['live', 'destroyed']}), ['destroyed', 'failincp1', 'failkept1', 'readyaaa1'])
    assert.deepEqual(await idsOf({status: ['ready']}), ['readyaaa1'])
    assert.deepEqual(await idsOf({status: ['failed']}), ['failolder', 'faildone1', 'failincp1', 'failkept1'])
  })
})
