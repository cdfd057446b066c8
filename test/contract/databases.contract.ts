import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {DemoDatabase} from '../../src/core/demo.js'
import type {Databases} from '../../src/core/ports.js'

/**
 * The behaviour every Databases adapter must have (ports.ts), run against the real adapters and the fake so the
 * fake cannot drift. `open` gives a fresh adapter over an empty world.
 */
function aDemoToProvision(
  databases: Databases,
  demoId: string,
): {id: string; demoType: string; database: DemoDatabase; createdAt: Date; seedValue: number} {
  return {id: demoId, demoType: 'startup', database: databases.planned(demoId), createdAt: new Date('2026-11-25T12:00:00Z'), seedValue: 7}
}

export function databasesContract(name: string, open: () => Databases, options: {id?: string} = {}): void {
  // Roles of a real Postgres are server-wide: a real adapter passes an id of its own run.
  const demoId = options.id ?? 'k3x9a2bq'
  describe(`Databases contract: ${name}`, () => {
    it('plans a database of its own mode, the same for the same id', () => {
      const databases = open()
      const planned = databases.planned(demoId)
      assert.equal(planned.mode, databases.mode)
      assert.deepEqual(databases.planned(demoId), planned)
    })

    it('provisions a database of its own mode, and provisioning again is no error', async () => {
      const databases = open()
      const demo = aDemoToProvision(databases, demoId)
      const access = await databases.provision(demo)
      assert.equal(access.database.mode, databases.mode)
      assert.deepEqual((await databases.provision({...demo, database: access.database})).database, access.database)
      await databases.drop({id: demo.id, database: access.database})
    })

    it('owns what it provisioned (mode none: nothing), each with the demo it belongs to, and no longer once dropped', async () => {
      const databases = open()
      assert.deepEqual(await databases.owned(), [])
      const access = await databases.provision(aDemoToProvision(databases, demoId))
      const owned = await databases.owned()
      if (databases.mode === 'none') {
        assert.deepEqual(owned, [])
      } else {
        assert.deepEqual(
          owned.map((o) => [o.demoId, o.database]),
          [[demoId, access.database]],
        )
        assert.ok(owned.every((o) => o.name.length > 0))
      }
      await databases.drop({id: demoId, database: access.database})
      assert.deepEqual(await databases.owned(), [])
    })

    it('passes its up-front check for a built-in type', async () => {
      await open().check('startup')
    })

    it('re-seeds a provisioned database (mode none: refuses, it has no data; supabase-project: refuses, see its reseed)', async () => {
      const databases = open()
      const demo = aDemoToProvision(databases, demoId)
      if (databases.mode === 'none' || databases.mode === 'supabase-project') {
        await assert.rejects(databases.reseed(demo, 1), (error: Error & {code?: string}) => error.code === 'E_USAGE')
        return
      }
      const access = await databases.provision(demo)
      await databases.reseed({...demo, database: access.database}, 8)
      await databases.drop({id: demo.id, database: access.database})
    })

    it('refuses to re-seed a database that does not exist', async () => {
      const databases = open()
      await assert.rejects(databases.reseed(aDemoToProvision(databases, demoId), 1), (error: Error & {code?: string}) => /^E_/.test(error.code ?? ''))
    })

    it('drops a database that is already gone without error', async () => {
      const databases = open()
      const database = databases.planned(demoId)
      await databases.drop({id: demoId, database})
      await databases.drop({id: demoId, database})
      assert.deepEqual(await databases.owned(), [])
    })
  })
}
