import {statsContract, type StatsHandle} from '../../contract/stats.contract.js'
import {openStore, type OpenedStore} from '../../../src/adapters/postgres/open-store.js'
import {resetSchema, tempDir, testDatabaseUrl} from '../../support/databases.js'

type RawDb = {query(sql: string, params?: unknown[]): Promise<unknown>}

/** The opened store, with events written straight into the table (as any version of demo, or gc, would have). */
function handleOf(opened: OpenedStore): StatsHandle {
  const db = (opened.store as unknown as {db: RawDb}).db
  return {
    ...opened,
    addEvent: async (event) => {
      await db.query('INSERT INTO demo_orchestrator.demo_events (demo_id, type, at, actor, data) VALUES ($1, $2, $3, $4, $5)', [
        event.demoId,
        event.type,
        event.at,
        event.actor,
        JSON.stringify(event.data),
      ])
    },
  }
}

statsContract('PostgreSQL server', async () => {
  await resetSchema()
  return handleOf(await openStore({databaseUrl: testDatabaseUrl(), stateDir: '/nonexistent'}))
})

const embeddedDir = `${tempDir()}/state`
statsContract('embedded PGlite', async () => {
  const opened = await openStore({databaseUrl: null, stateDir: embeddedDir})
  const db = (opened.store as unknown as {db: RawDb}).db
  await db.query('TRUNCATE demo_orchestrator.demo_events, demo_orchestrator.demo_instances')
  return handleOf(opened)
})
