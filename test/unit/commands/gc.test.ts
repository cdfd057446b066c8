import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import Gc from '../../../src/commands/gc.js'
import Destroy from '../../../src/commands/destroy.js'
import Get from '../../../src/commands/get.js'
import type {Demo} from '../../../src/core/demo.js'
import {ClusterUnavailableError, StoreUnavailableError} from '../../../src/core/errors.js'
import type {GcReport} from '../../../src/core/run-gc.js'
import {aNamespaceManifest, ownershipMarks} from '../../fakes/builders.js'
import {FakeCluster} from '../../fakes/fake-cluster.js'
import {runInProcess, said, World} from '../../support/in-process.js'

// The World's clock: 2026-11-25T12:00Z. Demos created two hours before, expiring an hour ago or in an hour.
const CREATED = new Date('2026-11-25T10:00:00Z')
const EXPIRED = new Date('2026-11-25T11:00:00Z')
const LATER = new Date('2026-11-25T13:00:00Z')
const UID = 'cluster-uid-test'

async function aDemoWithNamespace(world: World, overrides: Partial<Demo> = {}): Promise<Demo> {
  const demo = await world.aStoredDemo({clusterId: UID, createdAt: CREATED, expiresAt: EXPIRED, ...overrides})
  const owner = {demoId: demo.id, namespace: demo.namespace}
  await world.cluster.ensureNamespace(aNamespaceManifest(owner), owner)
  const ns = world.cluster.namespaces.get(demo.namespace)
  if (ns) ns.createdAt = CREATED
  return demo
}

function reportOf(run: {stdout: string}): GcReport {
  return JSON.parse(run.stdout) as GcReport
}

describe('demo gc (in process)', () => {
  it('destroys the expired demos, deletes an old orphan, reports auto_cleanup off, and a second run finds nothing', async () => {
    const world = new World()
    const expired = await aDemoWithNamespace(world)
    const fresh = await aDemoWithNamespace(world, {expiresAt: LATER})
    const kept = await aDemoWithNamespace(world, {autoCleanup: false})
    world.cluster.addNamespace('demo-zorphan1', {...ownershipMarks('zorphan1'), createdAt: CREATED})
    world.cluster.addNamespace('demo-zforeign', {labels: {team: 'payments'}, createdAt: CREATED})

    const run = await runInProcess<GcReport>(Gc, ['--json'], world)

    assert.equal(run.exitCode, 0, said(run))
    const report = reportOf(run)
    assert.deepEqual(report.done.map((d) => `${d.action} ${d.demoId}`).sort(), [`delete-orphan zorphan1`, `destroy ${expired.id}`].sort())
    assert.deepEqual(
      report.overdue.map((o) => [o.demoId, o.overdue]),
      [[kept.id, '1h 00m']],
    )
    assert.equal((await world.store.get(expired.id))?.status, 'destroyed')
    assert.equal((await world.store.get(fresh.id))?.status, 'ready')
    assert.equal((await world.store.get(kept.id))?.status, 'ready')
    assert.ok(world.cluster.namespaces.has(kept.namespace))
    assert.ok(world.cluster.namespaces.has('demo-zforeign'), 'a namespace without our marks is left alone')
    assert.ok(!world.cluster.namespaces.has('demo-zorphan1') || world.cluster.namespaces.get('demo-zorphan1')?.terminating)
    const events = await world.store.events(expired.id)
    assert.deepEqual(
      events.filter((e) => e.type === 'destroying' || e.type === 'destroyed').map((e) => `${e.type} ${e.actor}`),
      ['destroying gc', 'destroyed gc'],
    )
    assert.match(String(events.find((e) => e.type === 'destroyed')?.data.reason), /^expired at/)

    const second = await runInProcess<GcReport>(Gc, ['--json'], world)
    assert.equal(second.exitCode, 0, said(second))
    assert.deepEqual(reportOf(second).planned, [])
  })

  it('--dry-run prints the plan and changes nothing', async () => {
    const world = new World()
    const expired = await aDemoWithNamespace(world)
    const run = await runInProcess(Gc, ['--dry-run', '--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(
      reportOf(run).planned.map((p) => `${p.action} ${p.demoId}`),
      [`destroy ${expired.id}`],
    )
    assert.equal((await world.store.get(expired.id))?.status, 'ready')
    assert.equal(world.cluster.namespaces.get(expired.namespace)?.terminating, false)
  })

  it('writes a line per action on stderr when it is not a terminal', async () => {
    const world = new World()
    const expired = await aDemoWithNamespace(world)
    const run = await runInProcess(Gc, [], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, new RegExp(`^gc: done destroy ${expired.id} ${expired.namespace}: expired at .* → destroyed; namespace`, 'm'))
    assert.match(run.stderr, /^gc on cluster cluster-uid-test \(context test\): 1 done, 0 failed/m)
  })

  it('records a demo whose namespace vanished as destroyed, with an event saying so', async () => {
    const world = new World()
    await aDemoWithNamespace(world, {expiresAt: LATER})
    const vanished = await world.aStoredDemo({clusterId: UID, createdAt: CREATED, expiresAt: LATER})
    const run = await runInProcess(Gc, ['--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.equal((await world.store.get(vanished.id))?.status, 'destroyed')
    const destroyed = (await world.store.events(vanished.id)).find((e) => e.type === 'destroyed')
    assert.match(String(destroyed?.data.reason), /vanished outside demo/)
    assert.equal(destroyed?.actor, 'gc')
  })

  it('cleans up after a failed create: the row stays failed, the cleanup recorded in metadata and an event', async () => {
    const world = new World()
    const failed = await aDemoWithNamespace(world, {status: 'failed', metadata: {cleanup: 'incomplete'}, expiresAt: LATER})
    const run = await runInProcess(Gc, ['--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    const row = await world.store.get(failed.id)
    assert.equal(row?.status, 'failed')
    assert.equal(row?.metadata.cleanup, 'done')
    assert.equal(row?.metadata.cleanedUpBy, 'gc')
    assert.ok(!world.cluster.namespaces.has(failed.namespace))
    assert.deepEqual(
      (await world.store.events(failed.id)).filter((e) => e.type === 'cleaned-up').map((e) => e.actor),
      ['gc'],
    )
  })

  it('skips demos of another cluster, and destroys one of this cluster created through another context', async () => {
    const world = new World()
    const elsewhere = await aDemoWithNamespace(world, {clusterId: 'cluster-uid-prod', kubeContext: 'prod'})
    const viaLaptop = await aDemoWithNamespace(world, {kubeContext: 'laptop'})
    const run = await runInProcess(Gc, ['--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    const report = reportOf(run)
    assert.deepEqual(
      report.done.map((d) => d.demoId),
      [viaLaptop.id],
    )
    assert.match(report.skipped.find((s) => s.demoId === elsewhere.id)?.reason ?? '', /another cluster/)
    assert.equal((await world.store.get(elsewhere.id))?.status, 'ready')
  })

  describe('the safety brake (exit 3, nothing deleted)', () => {
    it('engages when the state store does not answer', async () => {
      const world = new World()
      const expired = await aDemoWithNamespace(world)
      world.store.unreachable = new StoreUnavailableError('The state store at db:5432 is unreachable (ECONNREFUSED).')
      const run = await runInProcess(Gc, ['--json'], world)
      assert.equal(run.exitCode, 3, said(run))
      assert.match(reportOf(run).brake?.reason ?? '', /could not read .*state store at db:5432 is unreachable/)
      assert.match(run.stderr, /^Error: gc deleted nothing: /m)
      assert.equal(world.cluster.namespaces.get(expired.namespace)?.terminating, false)
    })

    it('engages when the cluster does not answer', async () => {
      const world = new World()
      const expired = await aDemoWithNamespace(world)
      world.cluster.failWhile('ownedNamespaces', new ClusterUnavailableError('The API server at https://127.0.0.1:6443 is unreachable.'))
      const run = await runInProcess(Gc, [], world)
      assert.equal(run.exitCode, 3, said(run))
      assert.match(run.stderr, /BRAKE ENGAGED, nothing deleted: could not read .*API server .* unreachable/)
      assert.equal((await world.store.get(expired.id))?.status, 'ready')
    })

    it('engages when the cluster lists no namespace of ours while live demos say there should be some', async () => {
      const world = new World()
      const expired = await aDemoWithNamespace(world)
      world.clusters.set('test', new FakeCluster('test'))
      const run = await runInProcess(Gc, ['--json'], world)
      assert.equal(run.exitCode, 3, said(run))
      assert.match(reportOf(run).brake?.reason ?? '', /lists no namespace with our marks, but 1 live demo/)
      assert.equal((await world.store.get(expired.id))?.status, 'ready')
    })

    it('engages when more deletions are planned than gc.maxDeletions, until --max-deletions allows them', async () => {
      const world = new World({gc: {maxDeletions: 2}})
      const demos = [await aDemoWithNamespace(world), await aDemoWithNamespace(world), await aDemoWithNamespace(world)]
      const braked = await runInProcess(Gc, ['--json'], world)
      assert.equal(braked.exitCode, 3, said(braked))
      assert.match(reportOf(braked).brake?.reason ?? '', /the plan deletes 3 objects, more than the allowed 2/)
      for (const demo of demos) assert.equal((await world.store.get(demo.id))?.status, 'ready')

      const allowed = await runInProcess(Gc, ['--json', '--max-deletions', '3'], world)
      assert.equal(allowed.exitCode, 0, said(allowed))
      for (const demo of demos) assert.equal((await world.store.get(demo.id))?.status, 'destroyed')
    })
  })

  it('exits 1 when an action fails, and still does the others', async () => {
    const world = new World()
    const broken = await aDemoWithNamespace(world)
    const fine = await aDemoWithNamespace(world)
    world.cluster.failWhile('deleteNamespace', new ClusterUnavailableError('The API server answered 503.'), (owner) => owner.demoId === broken.id)
    const run = await runInProcess(Gc, ['--json'], world)
    assert.equal(run.exitCode, 1, said(run))
    const report = reportOf(run)
    assert.deepEqual(
      report.failed.map((f) => [f.demoId, f.error.code]),
      [[broken.id, 'E_CLUSTER_UNREACHABLE']],
    )
    assert.deepEqual(
      report.done.map((d) => d.demoId),
      [fine.id],
    )
  })

  it('skips a demo that a destroy claimed after gc read it (compare-and-set), without failing', async () => {
    const world = new World()
    const expired = await aDemoWithNamespace(world)
    // A `demo destroy` writes the row between gc's read and its claim.
    const original = world.store.list.bind(world.store)
    world.store.list = async (...args) => {
      const page = await original(...args)
      await runInProcess(Destroy, [expired.id, '--yes', '--no-wait'], world)
      return page
    }
    const run = await runInProcess(Gc, ['--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(reportOf(run).skipped.find((s) => s.demoId === expired.id)?.reason ?? '', /changed by another process/)
  })

  describe('bad input (exit 2, nothing deleted)', () => {
    for (const args of [['--concurrency', '0'], ['--max-deletions', '-1'], ['--no-such-flag'], ['--wait-timeout', '300']]) {
      it(`refuses ${args.join(' ')}`, async () => {
        const world = new World()
        const expired = await aDemoWithNamespace(world)
        const run = await runInProcess(Gc, args, world)
        assert.equal(run.exitCode, 2, said(run))
        assert.equal((await world.store.get(expired.id))?.status, 'ready')
      })
    }
  })
})

describe('the gc alert webhook', () => {
  let server: Server
  let url: string
  const received: string[] = []
  let answers: number[] = []

  before(async () => {
    server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        received.push(body)
        response.statusCode = answers.shift() ?? 200
        response.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/s3cr3t-token`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  function reset(next: number[]): void {
    received.length = 0
    answers = next
  }

  it('gets one POST when the brake engages, retried on 5xx, and the URL is never printed', async () => {
    reset([500, 503])
    const world = new World({gc: {alertWebhook: 'SLACK_GC_WEBHOOK'}})
    await aDemoWithNamespace(world)
    world.store.unreachable = new StoreUnavailableError('The state store is unreachable.')
    const run = await runInProcess(Gc, ['--json'], world, {env: {SLACK_GC_WEBHOOK: url}})
    assert.equal(run.exitCode, 3, said(run))
    assert.equal(received.length, 3)
    assert.match((JSON.parse(received[2] ?? '{}') as {text: string}).text, /safety brake engaged, nothing deleted/)
    assert.match(run.stderr, /Alert: sent to the webhook in \$SLACK_GC_WEBHOOK \(3 attempts\)/)
    assert.ok(!run.stdout.includes('s3cr3t') && !run.stderr.includes('s3cr3t'), 'the webhook URL was printed')
  })

  it('gets one POST when an action fails (DEMO_GC_ALERT_WEBHOOK), and none on a clean run', async () => {
    reset([])
    const world = new World()
    const broken = await aDemoWithNamespace(world)
    world.cluster.failNext('deleteNamespace', new ClusterUnavailableError('The API server answered 503.'))
    const failed = await runInProcess(Gc, [], world, {env: {DEMO_GC_ALERT_WEBHOOK: url}})
    assert.equal(failed.exitCode, 1, said(failed))
    assert.equal(received.length, 1)
    assert.match((JSON.parse(received[0] ?? '{}') as {text: string}).text, new RegExp(`1 action\\(s\\) failed[\\s\\S]*${broken.id}`))
    assert.ok(!failed.stderr.includes('s3cr3t'))

    reset([])
    const clean = await runInProcess(Gc, [], world, {env: {DEMO_GC_ALERT_WEBHOOK: url}})
    assert.equal(clean.exitCode, 0, said(clean))
    assert.equal(received.length, 0)
  })

  describe('"expiring soon" notices (issue 9)', () => {
    const IN_20_MIN = new Date('2026-11-25T12:20:00Z')
    const IN_2_H = new Date('2026-11-25T14:00:00Z')
    const WEBHOOK = (): NodeJS.ProcessEnv => ({DEMO_GC_ALERT_WEBHOOK: url})
    const texts = (): string[] => received.map((body) => (JSON.parse(body) as {text: string}).text)
    const noticesOf = async (world: World, id: string) => (await world.store.events(id)).filter((e) => e.type === 'expiry-notice')
    const noSecret = (run: {stdout: string; stderr: string}) =>
      assert.ok(!run.stdout.includes('s3cr3t') && !run.stderr.includes('s3cr3t'), 'the webhook URL was printed')

    it('one POST for a demo expiring in 20 min, none for one expiring in 2 h, none on the second run; the URL never printed', async () => {
      reset([])
      const world = new World()
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN, name: 'sales-call', createdBy: 'alice@example.com'})
      const later = await aDemoWithNamespace(world, {expiresAt: IN_2_H})

      const first = await runInProcess<GcReport>(Gc, ['--json'], world, {env: WEBHOOK()})
      assert.equal(first.exitCode, 0, said(first))
      assert.equal(received.length, 1)
      const text = texts()[0] ?? ''
      assert.match(text, new RegExp(`^Demo ${soon.id} \\("sales-call"\\) of alice@example.com expires at 2026-11-25 12:20 UTC, in 20m`))
      assert.ok(text.includes(`\`demo extend ${soon.id} --by 1h\``), text)
      assert.deepEqual(
        reportOf(first).notices.map((n) => [n.demoId, n.outcome, n.owner, n.expiresAt, n.command]),
        [[soon.id, 'sent', 'alice@example.com', IN_20_MIN.toISOString(), `demo extend ${soon.id} --by 1h`]],
      )
      const recorded = await noticesOf(world, soon.id)
      assert.deepEqual(
        recorded.map((e) => [e.actor, e.data.expiresAt]),
        [['gc', IN_20_MIN.toISOString()]],
      )
      assert.deepEqual(await noticesOf(world, later.id), [])
      assert.equal((await world.store.get(soon.id))?.status, 'ready', 'a notice changes nothing else')
      noSecret(first)

      reset([])
      const second = await runInProcess<GcReport>(Gc, [], world, {env: WEBHOOK()})
      assert.equal(second.exitCode, 0, said(second))
      assert.equal(received.length, 0, 'the second run sent the notice again')
      assert.equal((await noticesOf(world, soon.id)).length, 1)
      noSecret(second)
    })

    it('says on stderr which notice was sent, and `demo get` tells it as a sentence', async () => {
      reset([])
      const world = new World()
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN})
      const run = await runInProcess(Gc, [], world, {env: WEBHOOK()})
      assert.equal(run.exitCode, 0, said(run))
      assert.match(run.stderr, new RegExp(`^gc: sent notify ${soon.id} ${soon.namespace}: expires at 2026-11-25 12:20 UTC \\(in 20m; owner `, 'm'))
      assert.match(run.stderr, /1 of 1 expiry notice\(s\) sent/)
      noSecret(run)
      const get = await runInProcess(Get, [soon.id], world)
      assert.match(get.stdout, /"expiring soon" notice sent to its owner by gc/)
    })

    it('a demo extended after its notice gets a new one when it nears its new expiry', async () => {
      reset([])
      const world = new World()
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN})
      await runInProcess(Gc, [], world, {env: WEBHOOK()})
      assert.equal(received.length, 1)
      const row = await world.store.get(soon.id)
      const extended = new Date(IN_20_MIN.getTime() + 3_600_000)
      await world.store.update(soon.id, row?.version ?? 0, {expiresAt: extended})

      reset([])
      await runInProcess(Gc, [], world, {env: WEBHOOK()})
      assert.equal(received.length, 0, '1h 20m left: no notice yet')
      world.clock.advance(3_600_000)
      const again = await runInProcess<GcReport>(Gc, ['--json'], world, {env: WEBHOOK()})
      assert.equal(again.exitCode, 0, said(again))
      assert.equal(received.length, 1)
      assert.deepEqual(
        (await noticesOf(world, soon.id)).map((e) => e.data.expiresAt),
        [IN_20_MIN.toISOString(), extended.toISOString()],
      )
    })

    it('--dry-run lists the notice it would send, and sends and records nothing', async () => {
      reset([])
      const world = new World()
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN})
      const run = await runInProcess<GcReport>(Gc, ['--dry-run', '--json'], world, {env: WEBHOOK()})
      assert.equal(run.exitCode, 0, said(run))
      assert.deepEqual(
        reportOf(run).notices.map((n) => [n.demoId, n.outcome]),
        [[soon.id, 'would-send']],
      )
      assert.equal(received.length, 0)
      assert.deepEqual(await noticesOf(world, soon.id), [])
    })

    it('without a webhook: no notice, no event', async () => {
      reset([])
      const world = new World()
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN})
      const run = await runInProcess<GcReport>(Gc, ['--json'], world)
      assert.equal(run.exitCode, 0, said(run))
      assert.deepEqual(reportOf(run).notices, [])
      assert.equal(received.length, 0)
      assert.deepEqual(await noticesOf(world, soon.id), [])
    })

    it('under the brake: no notices (only the brake alert)', async () => {
      reset([])
      const world = new World({gc: {maxDeletions: 0}})
      await aDemoWithNamespace(world)
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN})
      const run = await runInProcess<GcReport>(Gc, ['--json'], world, {env: WEBHOOK()})
      assert.equal(run.exitCode, 3, said(run))
      assert.deepEqual(reportOf(run).notices, [])
      assert.equal(received.length, 1)
      assert.match(texts()[0] ?? '', /safety brake engaged/)
      assert.deepEqual(await noticesOf(world, soon.id), [])
    })

    it('a POST that fails does not fail the run: a warning, nothing recorded, and the next run sends it', async () => {
      reset([500, 500, 500])
      const world = new World()
      const soon = await aDemoWithNamespace(world, {expiresAt: IN_20_MIN})
      const run = await runInProcess<GcReport>(Gc, ['--json'], world, {env: WEBHOOK()})
      assert.equal(run.exitCode, 0, said(run))
      assert.equal(received.length, 3, 'retried as alerts are')
      assert.deepEqual(
        reportOf(run).notices.map((n) => [n.demoId, n.outcome]),
        [[soon.id, 'not-sent']],
      )
      assert.match(
        run.stderr,
        new RegExp(
          `^Warning: the expiry notice for demo ${soon.id} \\(owner .*\\) was not sent: the webhook in \\$DEMO_GC_ALERT_WEBHOOK answered HTTP 500; gave up after 3 attempts; the next run tries again\\.$`,
          'm',
        ),
      )
      assert.deepEqual(await noticesOf(world, soon.id), [])
      noSecret(run)

      reset([])
      const next = await runInProcess(Gc, [], world, {env: WEBHOOK()})
      assert.equal(next.exitCode, 0, said(next))
      assert.equal(received.length, 1)
      assert.equal((await noticesOf(world, soon.id)).length, 1)
    })
  })

  it('refuses a malformed webhook URL before anything is read or deleted, without printing it', async () => {
    const world = new World()
    const expired = await aDemoWithNamespace(world)
    const run = await runInProcess(Gc, [], world, {env: {DEMO_GC_ALERT_WEBHOOK: 'hooks.slack.com/s3cr3t'}})
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /The alert webhook URL in \$DEMO_GC_ALERT_WEBHOOK is not an http\(s\) URL/)
    assert.ok(!run.stderr.includes('s3cr3t'))
    assert.equal((await world.store.get(expired.id))?.status, 'ready')
  })

  it('refuses a URL written into demo.config.yaml instead of a variable name', async () => {
    const world = new World({gc: {alertWebhook: 'https://hooks.slack.com/services/s3cr3t'}})
    const run = await runInProcess(Gc, [], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /gc.*alertWebhook/)
  })
})

describe('one cluster, many kubeconfigs (destroy and extend match on the cluster identity)', () => {
  it('destroys a demo created through context "ci" from a kubeconfig that calls the same cluster "test"', async () => {
    const world = new World()
    const demo = await aDemoWithNamespace(world, {kubeContext: 'ci', expiresAt: LATER})
    const run = await runInProcess(Destroy, [demo.id, '--yes'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.equal((await world.store.get(demo.id))?.status, 'destroyed')
  })

  it('refuses, before anything changes, a kubeconfig whose cluster is another one (E_WRONG_CLUSTER, exit 2)', async () => {
    const world = new World()
    const demo = await aDemoWithNamespace(world, {kubeContext: 'ci', clusterId: 'cluster-uid-prod', expiresAt: LATER})
    const run = await runInProcess(Destroy, [demo.id, '--yes', '--json'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stdout, /E_WRONG_CLUSTER/)
    assert.equal((await world.store.get(demo.id))?.status, 'ready')
  })
})
