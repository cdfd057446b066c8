import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {demoStoreContract} from '../../contract/demo-store.contract.js'
import {openStore, type OpenedStore} from '../../../src/adapters/postgres/open-store.js'
import {StoreError} from '../../../src/core/errors.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../../fakes/builders.js'
import {resetSchema, tempDir, testDatabaseUrl} from '../../support/databases.js'

demoStoreContract('PostgreSQL server', async () => {
  await resetSchema()
  return openStore({databaseUrl: testDatabaseUrl(), stateDir: '/nonexistent'})
})

const embeddedDir = `${tempDir()}/state`
demoStoreContract('embedded PGlite', async () => {
  const opened = await openStore({databaseUrl: null, stateDir: embeddedDir})
  // Reopening one directory per test exercises the reopen path; truncation gives each test a clean table.
  const {store} = opened
  const db = (store as unknown as {db: {query(sql: string): Promise<unknown>}}).db
  await db.query('TRUNCATE demo_orchestrator.demo_events, demo_orchestrator.demo_instances')
  return opened
})

type RawDb = {query(sql: string, params?: unknown[]): Promise<unknown>}

/** Rows written outside demo (or by another version) whose database columns do not fit their mode. */
const MISFITS: Array<{columns: Record<string, string | null>; problem: string}> = [
  {columns: {database_mode: 'none', database_schema: 'demo_x'}, problem: 'database_schema is set'},
  {
    columns: {database_mode: 'none', supabase_project_id: 'abcdefghijkl', supabase_anon_key: 'eyJ.anon'},
    problem: 'supabase_project_id, supabase_anon_key are set',
  },
  {columns: {database_mode: 'shared-schema'}, problem: 'database_schema is empty'},
  {
    columns: {database_mode: 'shared-schema', database_schema: 'demo_x', supabase_project_id: 'abcdefghijkl'},
    problem: 'supabase_project_id, supabase_url and supabase_anon_key must be all set or all empty',
  },
  {columns: {database_mode: 'supabase-project', database_schema: 'demo_x'}, problem: 'database_schema is set'},
  {
    columns: {database_mode: 'supabase-project', supabase_anon_key: 'eyJ.anon'},
    problem: 'supabase_url or supabase_anon_key is set without supabase_project_id',
  },
]

for (const [name, open] of [
  ['PostgreSQL server', async () => (await resetSchema(), openStore({databaseUrl: testDatabaseUrl(), stateDir: '/nonexistent'}))],
  ['embedded PGlite', () => openStore({databaseUrl: null, stateDir: `${tempDir()}/state`})],
] as const) {
  describe(`the ${name} store's database columns`, () => {
    let opened: OpenedStore
    let db: RawDb
    before(async () => {
      opened = await open()
      db = (opened.store as unknown as {db: RawDb}).db
    })
    after(async () => {
      await opened.close()
    })

    for (const misfit of MISFITS) {
      it(`refuses a row of mode ${misfit.columns.database_mode} whose columns do not fit it (${misfit.problem}) with a StoreError`, async () => {
        const demo = aNewDemo()
        const result = await opened.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
        assert.ok('inserted' in result)
        const columns = {database_schema: null, supabase_project_id: null, supabase_url: null, supabase_anon_key: null, ...misfit.columns}
        const names = Object.keys(columns)
        await db.query(`UPDATE demo_orchestrator.demo_instances SET ${names.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [
          demo.id,
          ...Object.values(columns),
        ])
        await assert.rejects(opened.store.get(demo.id), (error: unknown) => {
          assert.ok(error instanceof StoreError, String(error))
          assert.equal(error.code, 'E_STORE')
          assert.equal(
            error.message,
            `The state store's row of demo "${demo.id}" does not fit its database mode "${misfit.columns.database_mode}": ${misfit.problem}.`,
          )
          assert.match(error.hint ?? '', /changed outside demo/)
          return true
        })
      })
    }
  })

  describe(`the ${name} store's writes`, () => {
    let opened: OpenedStore
    before(async () => {
      opened = await open()
    })
    after(async () => {
      await opened.close()
    })

    it('let no more creates through than the cap when eight insert at once (the count is made under the lock)', async () => {
      const owner = `racer-${Date.now()}@example.com`
      const demos = Array.from({length: 8}, () => aNewDemo({createdBy: owner}))
      const results = await Promise.all(demos.map((demo) => opened.store.insert(demo, {perOwner: 3, global: 100_000}, aCreatedEvent(demo))))
      assert.equal(results.filter((r) => 'inserted' in r).length, 3)
      for (const result of results.filter((r) => 'refused' in r)) {
        assert.ok('refused' in result && result.refused === 'owner')
        assert.equal(result.live.length, 3)
      }
      const events = await Promise.all(demos.map((demo) => opened.store.events(demo.id)))
      assert.equal(events.filter((e) => e.length === 1).length, 3, 'an event for each inserted demo and none for a refused one')
    })

    it('update and its event are one write: an event the database refuses (an actor over 256 characters) leaves the row as it was', async () => {
      const demo = aNewDemo()
      const result = await opened.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
      assert.ok('inserted' in result)
      const event = {demoId: demo.id, type: 'ready' as const, at: new Date('2026-11-25T12:01:00Z'), actor: 'x'.repeat(300), data: {}}
      await assert.rejects(opened.store.update(demo.id, 1, {status: 'ready'}, event), StoreError)
      const after = await opened.store.get(demo.id)
      assert.equal(after?.status, 'creating')
      assert.equal(after?.version, 1)
      assert.deepEqual(
        (await opened.store.events(demo.id)).map((e) => e.type),
        ['created'],
      )
    })
  })
}
