// `demo gc` end to end (issue 12; fault matrix T1, T2, T5, T6, T7, T20, X5): the built CLI against the local
// control plane and real PostgreSQL. Demos are created through the CLI and expired by moving expires_at in the
// store. Other tests' leftovers in the shared cluster are orphans to gc too, so assertions name our objects.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {CoreV1Api} from '@kubernetes/client-node'
import type {Db} from '../../src/adapters/postgres/db.js'
import {openEmbedded} from '../../src/adapters/postgres/embedded.js'
import type {GcReport} from '../../src/core/run-gc.js'
import {onlyServices, ownershipMarks} from '../fakes/builders.js'
import {scratchDatabase, query} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, startDemo, startPausedAt, transcript, type CliSandbox} from '../support/cli.js'
import {isApiException, loadTestKubeConfig, namespaceExists, TEST_NAMESPACE_LABEL} from '../support/k8s.js'

const core = loadTestKubeConfig().makeApiClient(CoreV1Api)

const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})
/** No grace: orphans made by the test are old enough at once; a create is dead after wait.timeoutSeconds (10 s). */
const CONFIG = {services: TWO_SERVICES, gc: {graceMinutes: 0}, wait: {timeoutSeconds: 10}, limits: {perOwner: 20}}
/** Leftovers of other test files in the shared cluster count as deletions too. */
const ALLOW = ['--max-deletions', '500']

async function status(url: string, id: string): Promise<string | undefined> {
  const [row] = await query<{status: string}>(url, 'SELECT status FROM demo_orchestrator.demo_instances WHERE id = $1', [id])
  return row?.status
}

async function events(url: string, id: string): Promise<Array<{type: string; actor: string}>> {
  return query(url, 'SELECT type, actor FROM demo_orchestrator.demo_events WHERE demo_id = $1 ORDER BY id', [id])
}

/** Moves the demo's lifetime into the past, as time passing would. */
async function expire(url: string, id: string): Promise<void> {
  await query(
    url,
    `UPDATE demo_orchestrator.demo_instances SET created_at = now() - interval '3 hours', expires_at = now() - interval '1 hour' WHERE id = $1`,
    [id],
  )
}

async function create(box: CliSandbox, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const created = await runDemo(box, ['create', '--type', 'startup', '--json', ...args], env)
  assert.equal(created.code, 0, transcript(created))
  return jsonOf<{id: string}>(created).id
}

async function aNamespace(name: string, metadata: {labels?: Record<string, string>; annotations?: Record<string, string>}): Promise<void> {
  await core.createNamespace({
    body: {metadata: {name, labels: {[TEST_NAMESPACE_LABEL]: 'true', ...metadata.labels}, annotations: metadata.annotations}},
  })
}

/** Gone or going. One read: a namespace can vanish between two (the namespace controller finishes it any moment). */
async function gone(name: string): Promise<boolean> {
  try {
    const ns = await core.readNamespace({name})
    return ns.metadata?.deletionTimestamp !== undefined
  } catch (error) {
    if (isApiException(error) && error.code === 404) return true
    throw error
  }
}

describe('demo gc: one run cleans exactly what it should', () => {
  let database: {url: string; drop: () => Promise<void>}
  let box: CliSandbox
  before(async () => {
    database = await scratchDatabase('gc')
    box = cliSandbox({config: CONFIG, databaseUrl: database.url})
  })
  after(() => database.drop())

  it('destroys the expired, finishes a destroying one, cleans two killed creates (after the row, after the namespace), deletes our orphan, leaves the rest, and a second run finds nothing', async () => {
    const expired = await create(box)
    const fresh = await create(box)
    const kept = await create(box, ['--no-auto-cleanup'])
    const destroying = await create(box)
    for (const id of [expired, kept]) await expire(database.url, id)
    const noWait = await runDemo(box, ['destroy', destroying, '--yes', '--no-wait'])
    assert.equal(noWait.code, 0, transcript(noWait))
    const killed = await runDemo(box, ['create', '--type', 'startup'], {DEMO_TEST_KILL_AT: 'namespace'})
    assert.equal(killed.signal, 'SIGKILL', transcript(killed))
    const [killedRow] = await query<{id: string}>(database.url, `SELECT id FROM demo_orchestrator.demo_instances WHERE status = 'creating'`)
    const killedId = killedRow?.id ?? ''
    await expire(database.url, killedId)
    // Fault matrix T2: killed right after its row was written, before any Kubernetes call: no namespace, only a row.
    const killedEarly = await runDemo(box, ['create', '--type', 'startup'], {DEMO_TEST_KILL_AT: 'record'})
    assert.equal(killedEarly.signal, 'SIGKILL', transcript(killedEarly))
    const [earlyRow] = await query<{id: string}>(
      database.url,
      `SELECT id FROM demo_orchestrator.demo_instances WHERE status = 'creating' AND id <> $1`,
      [killedId],
    )
    const killedEarlyId = earlyRow?.id ?? ''
    assert.ok(killedEarlyId && !(await namespaceExists(core, `demo-${killedEarlyId}`)), 'killed before its namespace was made')
    await expire(database.url, killedEarlyId)
    const suffix = randomBytes(3).toString('hex')
    const orphan = `demo-zorph${suffix}`
    const foreign = `demo-zfore${suffix}`
    await aNamespace(orphan, ownershipMarks(`zorph${suffix}`))
    await aNamespace(foreign, {labels: {team: 'payments'}})

    const run = await runDemo(box, ['gc', '--json', ...ALLOW])

    assert.equal(run.code, 0, transcript(run))
    const report = jsonOf<GcReport>(run)
    const done = new Map(report.done.map((d) => [d.namespace, d.action]))
    assert.equal(done.get(`demo-${expired}`), 'destroy')
    assert.equal(done.get(`demo-${destroying}`), 'finish-destroy')
    assert.equal(done.get(`demo-${killedId}`), 'destroy')
    assert.equal(done.get(`demo-${killedEarlyId}`), 'destroy')
    assert.equal(done.get(orphan), 'delete-orphan')
    assert.ok(!done.has(`demo-${fresh}`) && !done.has(`demo-${kept}`) && !done.has(foreign), transcript(run))
    assert.deepEqual(
      report.overdue.map((o) => o.demoId),
      [kept],
    )
    for (const id of [expired, destroying, killedId, killedEarlyId]) {
      assert.equal(await status(database.url, id), 'destroyed', id)
      assert.equal(await gone(`demo-${id}`), true, id)
      const trail = await events(database.url, id)
      assert.deepEqual(
        trail.filter((e) => e.type === 'destroyed').map((e) => e.actor),
        ['gc'],
        id,
      )
    }
    assert.equal(await gone(orphan), true)
    assert.equal(await namespaceExists(core, foreign), true, 'a namespace without our marks is left alone')
    for (const id of [fresh, kept]) {
      assert.equal(await status(database.url, id), 'ready')
      assert.equal(await gone(`demo-${id}`), false)
    }

    const second = await runDemo(box, ['gc', '--json', ...ALLOW])
    assert.equal(second.code, 0, transcript(second))
    const ours = new Set([expired, fresh, kept, destroying, killedId, killedEarlyId, `zorph${suffix}`])
    assert.deepEqual(
      jsonOf<GcReport>(second).planned.filter((p) => ours.has(p.demoId)),
      [],
    )
    await core.deleteNamespace({name: foreign})
  })
})

describe('demo gc: "expiring soon" notices (issue 9) to a real webhook, by the state database\u2019s clock', () => {
  let database: {url: string; drop: () => Promise<void>}
  let box: CliSandbox
  const received: string[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      received.push(body)
      response.end()
    })
  })
  before(async () => {
    database = await scratchDatabase('gcnotice')
    box = cliSandbox({config: CONFIG, databaseUrl: database.url})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await database.drop()
  })

  it('one POST for the demo expiring in 20 min (the CLI\u2019s clock an hour behind), none for 2 h, none on the second run', async () => {
    const soon = await create(box)
    const later = await create(box)
    const setExpiry = (id: string, interval: string) =>
      query(database.url, `UPDATE demo_orchestrator.demo_instances SET expires_at = now() + interval '${interval}' WHERE id = $1`, [id])
    await setExpiry(soon, '20 minutes')
    await setExpiry(later, '2 hours')
    const env = {
      DEMO_GC_ALERT_WEBHOOK: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/s3cr3t-token`,
      DEMO_TEST_CLOCK_OFFSET_MS: String(-3_600_000),
    }

    const run = await runDemo(box, ['gc', '--json', ...ALLOW], env)
    assert.equal(run.code, 0, transcript(run))
    const notices = jsonOf<GcReport>(run).notices.filter((n) => n.demoId === soon || n.demoId === later)
    assert.deepEqual(
      notices.map((n) => [n.demoId, n.outcome, n.command]),
      [[soon, 'sent', `demo extend ${soon} --by 1h`]],
    )
    const texts = received.map((body) => (JSON.parse(body) as {text: string}).text)
    assert.equal(texts.filter((t) => t.includes(soon)).length, 1, texts.join('\n'))
    assert.ok(!texts.some((t) => t.includes(later)))
    assert.deepEqual(
      (await events(database.url, soon)).filter((e) => e.type === 'expiry-notice').map((e) => e.actor),
      ['gc'],
    )
    assert.ok(!run.stdout.includes('s3cr3t') && !run.stderr.includes('s3cr3t'), 'the webhook URL was printed')

    received.length = 0
    const second = await runDemo(box, ['gc', '--json', ...ALLOW], env)
    assert.equal(second.code, 0, transcript(second))
    assert.deepEqual(received, [])
    assert.equal((await events(database.url, soon)).filter((e) => e.type === 'expiry-notice').length, 1)
  })
})

describe('demo gc: two runs at once, and a destroy racing a run', () => {
  let database: {url: string; drop: () => Promise<void>}
  let box: CliSandbox
  before(async () => {
    database = await scratchDatabase('gc2')
    box = cliSandbox({config: CONFIG, databaseUrl: database.url})
  })
  after(() => database.drop())

  it('destroys each expired demo exactly once with two gc processes, both exiting 0', async () => {
    const ids = [await create(box), await create(box), await create(box)]
    for (const id of ids) await expire(database.url, id)
    const first = startDemo(box, ['gc', '--json', ...ALLOW])
    const second = startDemo(box, ['gc', '--json', ...ALLOW])
    const results = [await first.result, await second.result]
    for (const result of results) assert.equal(result.code, 0, transcript(result))
    const reports = results.map((r) => jsonOf<GcReport>(r))
    for (const id of ids) {
      assert.equal(await status(database.url, id), 'destroyed')
      const trail = await events(database.url, id)
      assert.equal(trail.filter((e) => e.type === 'destroyed').length, 1, JSON.stringify(trail))
      assert.equal(trail.filter((e) => e.type === 'destroying').length, 1, JSON.stringify(trail))
      const doneBy = reports.filter((r) => r.done.some((d) => d.demoId === id)).length
      assert.equal(doneBy, 1, `${id} done by ${doneBy} runs:\n${results.map(transcript).join('\n')}`)
    }
    for (const report of reports) assert.deepEqual(report.failed, [])
  })

  it('lets `demo destroy` race a gc run over the same demo: both succeed, one destroyed event', async () => {
    const id = await create(box)
    await expire(database.url, id)
    const gc = startDemo(box, ['gc', '--json', ...ALLOW])
    const destroy = startDemo(box, ['destroy', id, '--yes', '--json'])
    const [gcResult, destroyResult] = [await gc.result, await destroy.result]
    assert.equal(gcResult.code, 0, transcript(gcResult))
    assert.equal(destroyResult.code, 0, transcript(destroyResult))
    assert.equal(await status(database.url, id), 'destroyed')
    const trail = await events(database.url, id)
    assert.equal(trail.filter((e) => e.type === 'destroyed').length, 1, JSON.stringify(trail))
    assert.deepEqual(jsonOf<GcReport>(gcResult).failed, [])
  })

  it('T6: an extend paused between its decision and its write meets gc’s destroy: it re-reads, is refused, and nothing is extended', async () => {
    const id = await create(box)
    // Stopped at its checkpoint, having decided on a live demo.
    const extend = await startPausedAt({args: ['extend', id, '--by', '1h', '--json'], cwd: box.dir, env: box.env}, 'decided')
    try {
      // Time passes while the extend is stopped: the demo expires (the row's lifetime moved into the past, as `expire` does).
      await expire(database.url, id)
      const gc = await runDemo(box, ['gc', '--json', ...ALLOW])
      assert.equal(gc.code, 0, transcript(gc))
      assert.deepEqual(
        jsonOf<GcReport>(gc)
          .done.filter((d) => d.demoId === id)
          .map((d) => d.action),
        ['destroy'],
      )
    } finally {
      extend.resume()
    }
    const extended = await extend.result
    assert.equal(extended.code, 1, transcript(extended))
    assert.deepEqual(jsonOf<{error: {code: string; message: string}}>(extended).error, {
      code: 'E_CONFLICT',
      message: `Cannot extend demo "${id}": it is destroyed.`,
      hint: 'Create a new demo with `demo create`.',
      exitCode: 1,
    })
    assert.equal(await status(database.url, id), 'destroyed')
    assert.equal(await gone(`demo-${id}`), true)
    const trail = await events(database.url, id)
    assert.deepEqual(
      trail.filter((e) => e.type === 'extended'),
      [],
      JSON.stringify(trail),
    )
    assert.equal(trail.filter((e) => e.type === 'destroyed').length, 1, JSON.stringify(trail))
  })
})

describe('demo gc: two runs at once on the embedded store (no DEMO_DATABASE_URL)', () => {
  let box: CliSandbox
  let stateDir: string
  before(() => {
    box = cliSandbox({config: CONFIG})
    stateDir = box.env.DEMO_STATE_DIR as string
  })

  /** The sandbox's PGlite store, opened in this process (under its file lock, as the CLI opens it). */
  async function onStore<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const db = openEmbedded(stateDir)
    try {
      return await work(db)
    } finally {
      await db.close()
    }
  }

  it('the second run waits for the first, naming it, then finds nothing: each demo destroyed once, none failed, both exit 0', async () => {
    const ids = [await create(box), await create(box), await create(box)]
    await onStore((db) =>
      db.query(
        `UPDATE demo_orchestrator.demo_instances SET created_at = now() - interval '3 hours', expires_at = now() - interval '1 hour' WHERE id = ANY($1)`,
        [ids],
      ),
    )
    const first = startDemo(box, ['gc', '--json', ...ALLOW])
    let firstEnded = false
    void first.result.then(() => (firstEnded = true))
    // The second starts once the first holds the gc run lock, so it has to wait (not a timing assertion: a sync point).
    while (!existsSync(`${stateDir}.gc.lock`) && !firstEnded) await sleep(20)
    const second = startDemo(box, ['gc', '--json', ...ALLOW])
    const [a, b] = [await first.result, await second.result]
    assert.equal(a.code, 0, transcript(a))
    assert.equal(b.code, 0, transcript(b))
    assert.match(
      b.stderr,
      new RegExp(`Waiting for another demo gc on the embedded store to finish: pid ${first.child.pid} \\(demo gc --json`),
      transcript(b),
    )
    const [ra, rb] = [jsonOf<GcReport>(a), jsonOf<GcReport>(b)]
    assert.deepEqual([ra.failed, rb.failed], [[], []])
    assert.deepEqual(ra.done.map((d) => d.demoId).sort(), [...ids].sort())
    assert.deepEqual(rb.done, [], 'the second run found the work done')
    const rows = await onStore(async (db) => ({
      statuses: (await db.query<{id: string; status: string}>('SELECT id, status FROM demo_orchestrator.demo_instances WHERE id = ANY($1)', [ids]))
        .rows,
      trail: (
        await db.query<{demo_id: string; type: string; actor: string}>(
          'SELECT demo_id, type, actor FROM demo_orchestrator.demo_events WHERE demo_id = ANY($1) ORDER BY id',
          [ids],
        )
      ).rows,
    }))
    for (const id of ids) {
      assert.equal(rows.statuses.find((r) => r.id === id)?.status, 'destroyed')
      const trail = rows.trail.filter((e) => e.demo_id === id)
      assert.equal(trail.filter((e) => e.type === 'destroyed' && e.actor === 'gc').length, 1, JSON.stringify(trail))
      assert.equal(trail.filter((e) => e.type === 'destroying').length, 1, JSON.stringify(trail))
    }
  })
})

describe('demo gc: the brake against real services', () => {
  it('engages with the state store down: exit 3, nothing deleted', async () => {
    const box = cliSandbox({config: CONFIG, databaseUrl: 'postgres://demo:demo@127.0.0.1:1/nothing'})
    const run = await runDemo(box, ['gc', '--json'])
    assert.equal(run.code, 3, transcript(run))
    assert.match(jsonOf<GcReport>(run).brake?.reason ?? '', /Cannot reach the state database/)
  })

  it('engages with the cluster unreachable: exit 3, nothing deleted', async () => {
    const database = await scratchDatabase('gc3')
    try {
      const box = cliSandbox({config: CONFIG, databaseUrl: database.url})
      const id = await create(box)
      await expire(database.url, id)
      const kubeconfig = `${box.dir}/unreachable.kubeconfig`
      const {writeFileSync} = await import('node:fs')
      writeFileSync(
        kubeconfig,
        `apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: x, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: x, user: x}}]\ncurrent-context: x\n`,
      )
      const run = await runDemo(box, ['gc', '--json'], {KUBECONFIG: kubeconfig})
      assert.equal(run.code, 3, transcript(run))
      assert.equal(await status(database.url, id), 'ready')
      assert.equal(await gone(`demo-${id}`), false)
      const cleanup = await runDemo(box, ['destroy', id, '--yes'])
      assert.equal(cleanup.code, 0, transcript(cleanup))
    } finally {
      await database.drop()
    }
  })
})
