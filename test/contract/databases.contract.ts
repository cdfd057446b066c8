import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {DemoDatabase} from '../../src/core/demo.js'
import type {Databases} from '../../src/core/ports.js'

/**
 * The behaviour every Databases adapter must have (ports.ts), run against the real adapters and the fake so the
 * fake cannot drift. `open` gives a fresh adapter over an empty world.
 */
function aDemoToProvision(databases: Databases): {id: string; demoType: string; database: DemoDatabase; createdAt: Date; seedValue: number} {
  return {id: 'k3x9a2bq', demoType: 'startup', database: databases.planned('k3x9a2bq'), createdAt: new Date('2026-11-25T12:00:00Z'), seedValue: 7}
}

export function databasesContract(name: string, open: () => Databases): void {
  describe(`Databases contract: ${name}`, () => {
    it('plans a database of its own mode, the same for the same id', () => {
      const databases = open()
      const planned = databases.planned('k3x9a2bq')
      assert.equal(planned.mode, databases.mode)
      assert.deepEqual(databases.planned('k3x9a2bq'), planned)
    })

    it('provisions a database of its own mode, and provisioning again is no error', async () => {
      const databases = open()
      const demo = aDemoToProvision(databases)
      const access = await databases.provision(demo)
      assert.equal(access.database.mode, databases.mode)
      assert.deepEqual((await databases.provision({...demo, database: access.database})).database, access.database)
    })

    it('owns what it provisioned (mode none: nothing), each with the demo it belongs to, and no longer once dropped', async () => {
      const databases = open()
      assert.deepEqual(await databases.owned(), [])
      const access = await databases.provision(aDemoToProvision(databases))
      const owned = await databases.owned()
      if (databases.mode === 'none') {
        assert.deepEqual(owned, [])
      } else {
        assert.deepEqual(
          owned.map((o) => [o.demoId, o.database]),
          [['k3x9a2bq', access.database]],
        )
        assert.ok(owned.every((o) => o.name.length > 0))
      }
      await databases.drop({id: 'k3x9a2bq', database: access.database})
      assert.deepEqual(await databases.owned(), [])
    })

    it('passes its up-front check for a built-in type', async () => {
      await open().check('startup')
    })

    it('re-seeds a provisioned database (mode none: refuses, it has no data; supabase-project: refuses, see its reseed)', async () => {
      const databases = open()
      const demo = aDemoToProvision(databases)
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
      await assert.rejects(databases.reseed(aDemoToProvision(databases), 1), (error: Error & {code?: string}) => /^E_/.test(error.code ?? ''))
    })

    it('drops a database that is already gone without error', async () => {
      const databases = open()
      const database = databases.planned('k3x9a2bq')
      await databases.drop({id: 'k3x9a2bq', database})
      await databases.drop({id: 'k3x9a2bq', database})
      assert.deepEqual(await databases.owned(), [])
    })
  })
}
