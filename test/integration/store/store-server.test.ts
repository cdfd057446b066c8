import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFile, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import type {Db} from '../../../src/adapters/postgres/db.js'
import {readHolder, tryAcquireLock} from '../../../src/adapters/postgres/embedded-lock.js'
import {openServedEmbedded, serverKey} from '../../../src/adapters/postgres/store-client.js'
import {migrate} from '../../../src/adapters/postgres/migrate.js'
import {FrameReader, frame, type StoreReply} from '../../../src/adapters/postgres/store-protocol.js'
import {serveEmbedded} from '../../../src/adapters/postgres/store-server.js'
import {socketPathFor} from '../../../src/adapters/postgres/store-socket.js'
import {DuplicateError, StoreError, StoreUnavailableError} from '../../../src/core/errors.js'
import {startScript} from '../../support/cli.js'
import {tempDir} from '../../support/databases.js'

/*
 * The embedded store's server (store-server.ts) as `demo` processes meet it: real server processes started by
 * the client (store-client.ts), real PGlite, real sockets. Each test has its own data directory.
 */

const servers = new Set<number>()
after(() => {
  for (const pid of servers) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already, as it should be
    }
  }
})

/** The pid of the server serving `dir`: it holds the role lock. */
function serverPid(dir: string): number {
  const pid = readHolder(`${dir}.server.lock`)?.pid
  if (pid === undefined) throw new Error(`no server holds ${dir}.server.lock`)
  servers.add(pid)
  return pid
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function served(dir: string, options: {idleMs?: number; key?: string; idleInTransactionMs?: number} = {}): Promise<Db> {
  const db = await openServedEmbedded(dir, {idleMs: 60_000, ...options})
  await migrate(db)
  return db
}

const ROWS = 'CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, at timestamptz, doc jsonb)'

describe('the embedded store server', () => {
  it('serves two clients at once from one process: each sees what the other wrote, values keep their types', async () => {
    const dir = join(tempDir(), 'state')
    const [a, b] = await Promise.all([served(dir), served(dir)])
    try {
      await a.query(ROWS)
      const at = new Date('2026-11-30T07:00:00.123Z')
      await Promise.all([
        a.query('INSERT INTO t VALUES ($1, $2, $3)', [1, at, {from: 'a'}]),
        b.query('INSERT INTO t VALUES ($1, $2, $3)', [2, at, {from: 'b'}]),
      ])
      const {rows} = await b.query<{id: number; at: Date; doc: unknown}>('SELECT * FROM t ORDER BY id')
      assert.deepEqual(rows, [
        {id: 1, at, doc: {from: 'a'}},
        {id: 2, at, doc: {from: 'b'}},
      ])
      assert.ok(alive(serverPid(dir)))
      assert.equal(readHolder(`${dir}.lock`)?.pid, serverPid(dir), 'the server holds the store lock')
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('keeps the kind of a failure across the socket: a duplicate key is a DuplicateError, bad SQL a StoreError with its SQLSTATE', async () => {
    const dir = join(tempDir(), 'state')
    const db = await served(dir)
    try {
      await db.query(ROWS)
      await db.query('INSERT INTO t (id) VALUES ($1)', [1])
      const error = await db.query('INSERT INTO t (id) VALUES ($1)', [1]).catch((e: unknown) => e)
      assert.ok(error instanceof DuplicateError, String(error))
      assert.match(error.message, /already has a row with that key \(t_pkey\)/)
      const refused = await db.query('SELEC 1').catch((e: unknown) => e)
      assert.ok(refused instanceof StoreError, String(refused))
      assert.match(refused.message, /SQLSTATE 42601/)
    } finally {
      await db.close()
    }
  })

  it('runs a transaction as one: others wait for it, a throw rolls it back, and the commit is seen after', async () => {
    const dir = join(tempDir(), 'state')
    const [a, b] = await Promise.all([served(dir), served(dir)])
    try {
      await a.query(ROWS)
      const order: string[] = []
      let inside!: () => void
      const entered = new Promise<void>((resolve) => (inside = resolve))
      const committed = a.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES ($1)', [10])
        inside()
        await new Promise((resolve) => setTimeout(resolve, 300))
        order.push('commit')
      })
      await entered
      const read = b.query<{n: number}>('SELECT count(*)::int AS n FROM t').then(({rows}) => {
        order.push('read')
        return rows[0]?.n
      })
      await committed
      assert.equal(await read, 1, 'the read saw the committed row')
      assert.deepEqual(order, ['commit', 'read'])

      const thrown = await b
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t (id) VALUES ($1)', [11])
          throw new Error('changed my mind')
        })
        .catch((e: unknown) => e)
      assert.equal((thrown as Error).message, 'changed my mind')
      const {rows} = await a.query<{id: number}>('SELECT id FROM t ORDER BY id')
      assert.deepEqual(rows, [{id: 10}])
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('rolls back the transaction of a client killed inside it, and serves the others on', async () => {
    const dir = join(tempDir(), 'state')
    const db = await served(dir)
    try {
      await db.query(ROWS)
      const client = startScript(
        `import {openServedEmbedded} from './src/adapters/postgres/store-client.ts'
         const db = await openServedEmbedded(process.env.DIR)
         await db.transaction(async (tx) => {
           await tx.query('INSERT INTO t (id) VALUES (99)')
           console.log('inside')
           await new Promise(() => {})
         })`,
        {DIR: dir},
      )
      await client.until('inside')
      client.child.kill('SIGKILL')
      await client.exit
      const {rows} = await db.query<{id: number}>('SELECT id FROM t')
      assert.deepEqual(rows, [])
    } finally {
      await db.close()
    }
  })

  it('rolls back a transaction that sits idle past the limit, so the others go on; its client hears why', async () => {
    const dir = join(tempDir(), 'state')
    const [stuck, other] = [await served(dir, {idleInTransactionMs: 300}), await served(dir)]
    try {
      await stuck.query(ROWS)
      const outcome = stuck
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t (id) VALUES (5)')
          // A command stuck inside its transaction (a debugger, a SIGSTOP): no statement for 1.5 s.
          await new Promise((resolve) => setTimeout(resolve, 1500))
          await tx.query('INSERT INTO t (id) VALUES (6)')
        })
        .catch((e: unknown) => e)
      const started = Date.now()
      const {rows} = await other.query<{n: number}>('SELECT count(*)::int AS n FROM t')
      assert.equal(rows[0]?.n, 0, 'the idle transaction was rolled back')
      assert.ok(Date.now() - started < 1500, 'the other command did not wait for the stuck one to wake up')
      const error = await outcome
      assert.ok(error instanceof StoreError, String(error))
      assert.match(error.message, /rolled back this command's transaction: it sat 0\.3 s without a statement/)
      assert.deepEqual((await other.query('SELECT id FROM t')).rows, [])
    } finally {
      await Promise.all([stuck.close(), other.close()])
    }
  })

  it('stops once idle: socket and locks gone; the next client starts a new server that finds the data', async () => {
    const dir = join(tempDir(), 'state')
    const first = await served(dir, {idleMs: 300})
    await first.query(ROWS)
    await first.query('INSERT INTO t (id) VALUES (1)')
    const pid = serverPid(dir)
    await first.close()
    await until(() => !alive(pid), 'the idle server exited')
    assert.equal(existsSync(socketPathFor(dir)), false, 'socket removed')
    assert.equal(existsSync(`${dir}.lock`), false, 'store lock released')
    assert.equal(existsSync(`${dir}.server.lock`), false, 'server lock released')
    // Its log tells its life, one line each, in order.
    const told = readFileSync(`${dir}.server.log`, 'utf8')
    const phases = [
      /serving .* \(stops after 300 ms without a client\)/,
      /listening on /,
      /first client connected/,
      /the store is open \(\d+ ms\)/,
      /stopping: no client for \d+ ms/,
      /stopped$/,
    ]
    const lines = told.trim().split('\n')
    for (const line of lines) assert.match(line, new RegExp(`^\\S+Z pid ${pid}: `), 'each line has its time and pid')
    const order = phases.map((phase) => lines.findIndex((line) => phase.test(line)))
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
      `phases in order, once each:\n${told}`,
    )

    const second = await served(dir)
    try {
      assert.notEqual(serverPid(dir), pid)
      assert.deepEqual((await second.query('SELECT id FROM t')).rows, [{id: 1}])
    } finally {
      await second.close()
    }
  })

  it('stops when its data directory is removed', async () => {
    const dir = join(tempDir(), 'state')
    const db = await served(dir)
    const pid = serverPid(dir)
    await db.close()
    rmSync(dir, {recursive: true, force: true})
    await until(() => !alive(pid), 'the server exited')
  })

  it('replaces a server killed with SIGKILL, whose socket file is left behind', async () => {
    const dir = join(tempDir(), 'state')
    const first = await served(dir)
    await first.query(ROWS)
    await first.query('INSERT INTO t (id) VALUES (7)')
    const pid = serverPid(dir)
    process.kill(pid, 'SIGKILL')
    await until(() => !alive(pid), 'the server died')
    assert.ok(existsSync(socketPathFor(dir)), 'the dead server left its socket')

    const second = await served(dir)
    try {
      assert.notEqual(serverPid(dir), pid)
      assert.deepEqual((await second.query('SELECT id FROM t')).rows, [{id: 7}])
      const lost = await first.query('SELECT 1').catch((e: unknown) => e)
      assert.ok(lost instanceof StoreUnavailableError, String(lost))
    } finally {
      await second.close()
    }
  })

  it('retires the server of another build: the new build’s server takes over while the old one finishes its client', async () => {
    const dir = join(tempDir(), 'state')
    const old = await served(dir, {key: 'build-1'})
    await old.query(ROWS)
    const oldPid = serverPid(dir)

    const upgraded = await served(dir, {key: 'build-2'})
    try {
      const newPid = serverPid(dir)
      assert.notEqual(newPid, oldPid)
      await upgraded.query('INSERT INTO t (id) VALUES (2)')
      // The old server still answers the client it had, taking turns with the new one through the store lock.
      await old.query('INSERT INTO t (id) VALUES (1)')
      assert.deepEqual((await upgraded.query('SELECT id FROM t ORDER BY id')).rows, [{id: 1}, {id: 2}])
      await old.close()
      await until(() => !alive(oldPid), 'the old server exited once its client left')
      assert.ok(alive(newPid))
    } finally {
      await upgraded.close()
    }
  })

  it('waits for its first client, however long PGlite took to open and even past its idle limit after: it was started for one', async () => {
    const dir = join(tempDir(), 'state')
    // Another process holds the store for 6 s, longer than a server waits for its first client (5 s), so PGlite's open waits.
    const releaseStore = tryAcquireLock(`${dir}.lock`, {command: 'a test holding the store'})
    assert.ok(releaseStore)
    const entry = fileURLToPath(new URL('../../../src/adapters/postgres/store-server-main.ts', import.meta.url))
    // As startServerEarly starts it, but with a 300 ms idle limit and no client yet.
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, dir, serverKey(), '300'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let log = ''
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    await new Promise((resolve) => setTimeout(resolve, 6000))
    releaseStore()
    await until(() => log.includes('the store is open'), 'the server opened the store', 30_000)
    // Longer than its idle limit, without a client yet.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const db = await served(dir, {idleMs: 300})
    try {
      assert.equal(serverPid(dir), child.pid, `the client found the server started for it, still up; it said:\n${log}`)
      assert.doesNotMatch(log, /stopping/)
    } finally {
      await db.close()
    }
    await until(() => child.exitCode !== null, 'the server stopped once its client had left')
    assert.match(log, /stopping: no client for \d+ ms/)
  })

  it('accepts a client whose connection waited while the server was busy past its idle limit', async () => {
    const dir = join(tempDir(), 'state')
    const lines: string[] = []
    const stopped = serveEmbedded(dir, {key: serverKey(), idleMs: 300, log: (line) => lines.push(line)})
    const first = await openServedEmbedded(dir)
    await first.query('SELECT 1')
    await first.close()
    await new Promise((resolve) => setTimeout(resolve, 100))
    // The server runs in this process: connect, then keep its event loop busy past a tick and the idle limit,
    // from an I/O callback, so that the loop's next turn runs the idle tick before it polls for the connection.
    const socket = await new Promise<ReturnType<typeof connect>>((resolve) =>
      readFile(fileURLToPath(import.meta.url), () => {
        const pending = connect(socketPathFor(dir))
        const busyUntil = Date.now() + 800
        while (Date.now() < busyUntil) {
          // busy, as PGlite's open or a long statement keeps it
        }
        resolve(pending)
      }),
    )
    const reader = new FrameReader<StoreReply>()
    const reply = await new Promise<StoreReply | Error>((resolve) => {
      socket.on('data', (chunk) => reader.push(chunk).forEach(resolve))
      socket.on('error', resolve)
      socket.on('close', () => resolve(new Error(`closed without an answer; the server said: ${lines.join(' / ')}`)))
      socket.write(frame({id: 1, op: 'hello', key: serverKey()}))
    })
    assert.deepEqual(reply, {id: 1, ok: true, value: null})
    assert.ok(!lines.some((line) => line.startsWith('stopping')), lines.join('\n'))
    socket.end()
    await stopped
    assert.match(lines.at(-2) ?? '', /^stopping: no client for \d+ ms$/)
    assert.equal(existsSync(`${dir}.server.lock`), false, 'server lock released')
  })

  it('names the reason a server could not start, from its log', async () => {
    const dir = join(tempDir(), 'state')
    mkdirSync(socketPathFor(dir), {recursive: true})
    const error = await served(dir).catch((e: unknown) => e)
    assert.ok(error instanceof StoreUnavailableError, String(error))
    assert.match(error.message, /its server stopped \(failed: .*(EISDIR|is a directory)/)
    assert.match(error.hint ?? '', new RegExp(`See ${dir}\\.server\\.log`))
  })

  it('says why it cannot open a data directory that is not one, naming the log', async () => {
    const dir = join(tempDir(), 'state')
    writeFileSync(dir, 'not a directory')
    const error = await served(dir).catch((e: unknown) => e)
    assert.ok(error instanceof StoreUnavailableError, String(error))
    assert.match(error.message, new RegExp(`Cannot open the embedded state store at ${dir}`))
    assert.match(error.hint ?? '', /move it aside/)
    serverPid(dir)
  })
})
