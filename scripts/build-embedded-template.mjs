// Builds dist/embedded-store-template.tar: an embedded store right after PGlite's initdb and our migrations,
// so that the first command on a new machine unpacks it (~0.1 s) instead of running initdb in WebAssembly
// (4–7 s). See src/adapters/postgres/embedded-template.ts. Run by `npm run build` after tsc.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const dist = new URL('../dist/', import.meta.url)
const {openEmbedded} = await import(new URL('adapters/postgres/embedded.js', dist).href)
const {migrate} = await import(new URL('adapters/postgres/migrate.js', dist).href)
const {packTemplate, EMBEDDED_TEMPLATE} = await import(new URL('adapters/postgres/embedded-template.js', dist).href)

const work = mkdtempSync(join(tmpdir(), 'demo-template-'))
try {
  const dataDir = join(work, 'state')
  // No template yet (it is what is being made): PGlite runs initdb.
  const db = openEmbedded(dataDir, {template: join(work, 'none.tar'), command: 'npm run build (embedded store template)'})
  await migrate(db)
  await db.query('CHECKPOINT')
  await db.close()
  packTemplate(dataDir, EMBEDDED_TEMPLATE)
} finally {
  rmSync(work, {recursive: true, force: true})
}
