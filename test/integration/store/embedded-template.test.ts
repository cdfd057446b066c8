import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {before, describe, it} from 'node:test'
import {demoStoreContract} from '../../contract/demo-store.contract.js'
import {openEmbedded} from '../../../src/adapters/postgres/embedded.js'
import {isInitialised, packTemplate, seedFromTemplate} from '../../../src/adapters/postgres/embedded-template.js'
import {migrate} from '../../../src/adapters/postgres/migrate.js'
import {openStore} from '../../../src/adapters/postgres/open-store.js'
import {tempDir} from '../../support/databases.js'

/** A template made as the build makes it (scripts/build-embedded-template.mjs): initdb, migrations, pack. */
async function makeTemplate(): Promise<string> {
  const work = tempDir()
  const dataDir = `${work}/made`
  const db = openEmbedded(dataDir, {template: `${work}/none.tar`})
  await migrate(db)
  await db.query('CHECKPOINT')
  await db.close()
  packTemplate(dataDir, `${work}/template.tar`)
  return `${work}/template.tar`
}

const ready = makeTemplate()

describe('the embedded store template', () => {
  let template: string
  before(async () => {
    template = await ready
  })

  it('seeds a new data directory that PGlite opens without initdb, migrated already', async () => {
    const dataDir = `${tempDir()}/state`
    assert.equal(seedFromTemplate(dataDir, template), true)
    assert.equal(isInitialised(dataDir), true)
    assert.equal(existsSync(`${dataDir}/postmaster.pid`), false)
    // The empty directories Postgres needs are part of it.
    assert.equal(existsSync(`${dataDir}/pg_tblspc`), true)
    const db = openEmbedded(dataDir, {template: '/nonexistent.tar'})
    try {
      const {rows} = await db.query<{v: number}>('SELECT max(version) AS v FROM demo_orchestrator.schema_migrations')
      assert.ok((rows[0]?.v ?? 0) >= 1)
    } finally {
      await db.close()
    }
    assert.deepEqual(
      readdirSync(`${dataDir}/..`).filter((name) => name.includes('.seeding-')),
      [],
    )
  })

  it('never touches a directory that holds anything, and does nothing without a template', () => {
    const dataDir = `${tempDir()}/state`
    mkdirSync(dataDir, {recursive: true})
    writeFileSync(`${dataDir}/notes.txt`, 'mine')
    assert.equal(seedFromTemplate(dataDir, template), false)
    assert.deepEqual(readdirSync(dataDir), ['notes.txt'])
    assert.equal(seedFromTemplate(`${tempDir()}/other`, '/nonexistent.tar'), false)
  })

  it('replaces an empty directory (one an earlier run made)', () => {
    const dataDir = `${tempDir()}/state`
    mkdirSync(dataDir, {recursive: true})
    assert.equal(seedFromTemplate(dataDir, template), true)
    assert.equal(isInitialised(dataDir), true)
  })
})

// The store contract on a store started from the template, as every new user's is.
const seededDir = `${tempDir()}/seeded`
demoStoreContract('embedded PGlite from the template', async () => {
  seedFromTemplate(seededDir, await ready)
  const opened = await openStore({databaseUrl: null, stateDir: seededDir})
  const db = (opened.store as unknown as {db: {query(sql: string): Promise<unknown>}}).db
  await db.query('TRUNCATE demo_orchestrator.demo_events, demo_orchestrator.demo_instances')
  return opened
})
