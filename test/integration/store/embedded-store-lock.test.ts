import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'
import {acquireLock} from '../../../src/adapters/postgres/embedded-lock.js'
import {openEmbedded} from '../../../src/adapters/postgres/embedded.js'
import {StoreUnavailableError} from '../../../src/core/errors.js'
import {cliSandbox, startDemo, startScript, transcript} from '../../support/cli.js'
import {tempDir} from '../../support/databases.js'

const run = promisify(execFile)
const TIME = String.raw`\d\d:\d\d:\d\d`

/** The lock file's holder: the JSON this version writes. */
function holderOf(lockPath: string): {pid: number; command: string; since: string} {
  return JSON.parse(readFileSync(lockPath, 'utf8')) as {pid: number; command: string; since: string}
}

describe('the embedded store lock', () => {
  it('records the holder pid, command and since when, and says once at once whom a waiter waits for', async () => {
    const lock = `${tempDir()}/state.lock`
    const release = await acquireLock(lock, {command: 'demo create --type startup'})
    const holder = holderOf(lock)
    assert.equal(holder.pid, process.pid)
    assert.equal(holder.command, 'demo create --type startup')
    assert.ok(Math.abs(Date.parse(holder.since) - Date.now()) < 60_000, `since ${holder.since}`)
    const notices: string[] = []
    try {
      const error = await acquireLock(lock, {waitMs: 500, notice: (m) => notices.push(m)}).catch((e: unknown) => e)
      assert.ok(error instanceof StoreUnavailableError, String(error))
      const named = `pid ${process.pid} \\(demo create --type startup, since ${TIME}\\)`
      assert.match(error.message, new RegExp(`^The embedded state store is in use by another demo process: ${named}; waited 0.5 s\\.$`))
      assert.equal(notices.length, 1, notices.join('\n'))
      assert.match(notices[0] ?? '', new RegExp(`^Waiting for the embedded state store: ${named} holds it\\.\\.\\.$`))
    } finally {
      release()
    }
    assert.equal(existsSync(lock), false, 'release removes the lock file')
    const again = await acquireLock(lock, {waitMs: 300})
    again()
  })

  it('takes over a lock left by a process that died, in the old bare-pid format too', async () => {
    const {stdout} = await run(process.execPath, ['-e', 'console.log(process.pid)'])
    const dead = Number(stdout.trim())
    for (const content of [String(dead), JSON.stringify({pid: dead, command: 'demo create', since: new Date().toISOString()})]) {
      const lock = `${tempDir()}/state.lock`
      writeFileSync(lock, content)
      const notices: string[] = []
      const release = await acquireLock(lock, {waitMs: 300, notice: (m) => notices.push(m)})
      const holder = holderOf(lock)
      release()
      assert.equal(holder.pid, process.pid, 'the lock file now names this process')
      assert.deepEqual(notices, [], 'a dead holder is not waited for')
      assert.equal(existsSync(`${lock}.break`), false, 'no break file is left behind')
    }
  })

  // The holders below open the store in their own process, as `demo` did before the store's server
  // (store-server.ts) and as an older `demo` still does: the server takes turns with them through the lock.
  it('tells a waiting `demo list` at once which process and command it waits for, then lists', async () => {
    const box = cliSandbox()
    const holder = startScript(
      `import {openEmbedded} from './src/adapters/postgres/embedded.ts'
       import {migrate} from './src/adapters/postgres/migrate.ts'
       const db = openEmbedded(process.env.DIR, {command: 'demo create --type startup'})
       await migrate(db)
       await db.transaction(async () => { console.log('holding'); await new Promise((r) => setTimeout(r, 5000)) })
       await db.close()
       console.log('closed')`,
      {DIR: box.env.DEMO_STATE_DIR},
    )
    await holder.until('holding')

    const list = await startDemo(box, ['list', '--json']).result
    const {code, output} = await holder.exit

    assert.equal(code, 0, output)
    assert.equal(list.code, 0, transcript(list))
    assert.deepEqual(JSON.parse(list.stdout), {demos: [], total: 0, page: 1, limit: 25})
    const waiting = list.stderr.split('\n').filter((line) => line.startsWith('Waiting for'))
    assert.deepEqual(waiting.length, 1, transcript(list))
    assert.match(
      waiting[0] ?? '',
      new RegExp(`^Waiting for the embedded state store: pid ${holder.child.pid} \\(demo create --type startup, since ${TIME}\\) holds it\\.\\.\\.$`),
    )
  })

  it('lets `demo list` read while another process is in a long wait between its store operations', async () => {
    const box = cliSandbox()
    const creator = startScript(
      `import {openEmbedded} from './src/adapters/postgres/embedded.ts'
       import {migrate} from './src/adapters/postgres/migrate.ts'
       import {PostgresDemoStore} from './src/adapters/postgres/demo-store.ts'
       import {aCreatedEvent, aNewDemo, BIG_CAPS} from './test/fakes/builders.ts'
       const db = openEmbedded(process.env.DIR, {command: 'demo create'})
       await migrate(db)
       const store = new PostgresDemoStore(db, 'embedded')
       const demo = aNewDemo({id: 'lockwait1', expiresAt: new Date(Date.now() + 3_600_000)})
       await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
       console.log('inserted')
       // What a create does while Kubernetes starts the demo: nothing with the store, for a long time.
       await new Promise((r) => setTimeout(r, 20_000))
       await store.update(demo.id, 1, {status: 'ready', readyAt: new Date()})
       await db.close()
       console.log('ready')`,
      {DIR: box.env.DEMO_STATE_DIR},
    )
    try {
      await creator.until('inserted')
      const list = await startDemo(box, ['list', '--json']).result

      assert.equal(list.code, 0, transcript(list))
      const body = JSON.parse(list.stdout) as {demos: Array<{id: string; status: string}>}
      assert.deepEqual(
        body.demos.map((d) => [d.id, d.status]),
        [['lockwait1', 'creating']],
      )
      assert.equal(creator.child.exitCode, null, 'the creator is still in its wait')
    } finally {
      creator.child.kill('SIGKILL')
      await creator.exit
    }
  })

  it('never has two processes hold the lock at once, however their store operations interleave', async () => {
    const stateDir = join(tempDir(), 'state')
    const setup = openEmbedded(stateDir)
    await setup.query('CREATE TABLE probe (pid int, i int)')
    await setup.close()
    const workers = Array.from({length: 3}, () =>
      startScript(
        `import {readFileSync} from 'node:fs'
         import {openEmbedded} from './src/adapters/postgres/embedded.ts'
         const lock = process.env.DIR + '.lock'
         let waits = 0
         const db = openEmbedded(process.env.DIR, {idleMs: 10, waitMs: 120_000, command: 'worker', notice: () => waits++})
         const holder = () => JSON.parse(readFileSync(lock, 'utf8')).pid
         const violations = []
         for (let i = 0; i < 6; i++) {
           await db.transaction(async (tx) => {
             if (holder() !== process.pid) violations.push('in transaction ' + i + ': ' + holder())
             await tx.query('INSERT INTO probe VALUES ($1, $2)', [process.pid, i])
             await new Promise((r) => setTimeout(r, Math.random() * 50))
           })
           if (holder() !== process.pid) violations.push('after transaction ' + i + ': ' + holder())
           await new Promise((r) => setTimeout(r, Math.random() * 50))
         }
         await db.close()
         console.log(JSON.stringify({violations, waits}))`,
        {DIR: stateDir},
      ),
    )
    const results = await Promise.all(workers.map((w) => w.exit))

    for (const {code, output} of results) assert.equal(code, 0, output)
    const reports = results.map(({output}) => JSON.parse(output.trim().split('\n').at(-1) ?? '') as {violations: string[]; waits: number})
    assert.deepEqual(
      reports.flatMap((r) => r.violations),
      [],
    )
    assert.ok(
      reports.some((r) => r.waits > 0),
      'the workers did contend for the lock',
    )
    assert.equal(existsSync(`${stateDir}.lock`), false, 'the last one released it')
    const check = openEmbedded(stateDir)
    const {rows} = await check.query<{n: number}>('SELECT count(*)::int AS n FROM probe')
    await check.close()
    assert.deepEqual(rows, [{n: 18}])
  })

  it('closes the store after its idle time, opens it again on the next use and keeps what was written', async () => {
    const stateDir = join(tempDir(), 'state')
    const db = openEmbedded(stateDir, {idleMs: 200})
    await db.query('CREATE TABLE probe (i int)')
    await db.query('INSERT INTO probe VALUES ($1)', [1])
    const justUsed = existsSync(`${stateDir}.lock`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const idle = existsSync(`${stateDir}.lock`)
    const {rows} = await db.query<{i: number}>('SELECT i FROM probe')
    const usedAgain = existsSync(`${stateDir}.lock`)
    await db.close()

    assert.deepEqual([justUsed, idle, usedAgain], [true, false, true], 'locked while used, released when idle, locked again when used')
    assert.deepEqual(rows, [{i: 1}])
    assert.equal(existsSync(`${stateDir}.lock`), false, 'close releases it')
  })

  it('yields to a waiting process as soon as it is idle, long before its idle time', async () => {
    const stateDir = join(tempDir(), 'state')
    const db = openEmbedded(stateDir, {idleMs: 60_000, command: 'demo create'})
    await db.query('SELECT 1')
    const notices: string[] = []
    const started = performance.now()
    const release = await acquireLock(`${stateDir}.lock`, {waitMs: 10_000, notice: (m) => notices.push(m)})
    const waitedMs = performance.now() - started
    release()
    await db.close()

    assert.equal(notices.length, 1, notices.join('\n'))
    assert.match(notices[0] ?? '', /\(demo create, since /)
    // Not a speed target: far below the holder's 60 s idle time proves it yielded because this one waited.
    assert.ok(waitedMs < 10_000, `waited ${Math.round(waitedMs)} ms`)
  })
})
