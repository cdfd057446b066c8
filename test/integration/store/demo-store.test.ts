import {demoStoreContract} from '../../contract/demo-store.contract.js'
import {openStore} from '../../../src/adapters/postgres/open-store.js'
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
