// demo health and demo wait in process against fakes: output, --json, exit codes 0/4/5, bad input, colour.
// The same against the local control plane and real HTTP(S) servers: test/e2e/health.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import Health, {type HealthReport} from '../../../src/commands/health.js'
import Wait from '../../../src/commands/wait.js'
import type {Demo} from '../../../src/core/demo.js'
import type {NewDemo} from '../../../src/core/ports.js'
import {onlyServices, ownershipMarks} from '../../fakes/builders.js'
import {runInProcess, said, World} from '../../support/in-process.js'

/** A stored demo whose namespace holds one Deployment, and whose two URLs answer 200. */
async function aLiveDemo(world: World, overrides: Partial<NewDemo> = {}): Promise<Demo> {
  const demo = await world.aStoredDemo(overrides)
  const owner = {demoId: demo.id, namespace: demo.namespace}
  world.cluster.addNamespace(demo.namespace, ownershipMarks(demo.id))
  await world.cluster.apply(
    [{apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'portal', namespace: demo.namespace, ...ownershipMarks(demo.id)}}],
    owner,
  )
  world.prober.answer(`${demo.portalUrl}/health`, {status: 200})
  world.prober.answer(`${demo.candidateUrl}/health`, {status: 200})
  return demo
}

describe('demo health <id> (in process)', () => {
  it('prints each check and exits 0 for a healthy demo', async () => {
    const world = new World()
    const demo = await aLiveDemo(world)
    const run = await runInProcess(Health, [demo.id], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, new RegExp(`^${demo.id}  healthy`))
    assert.match(run.stdout, /deployment portal\s+healthy\s+1\/1 available/)
    assert.match(run.stdout, /database\s+skipped\s+database mode none/)
    assert.match(run.stdout, /url portal\s+healthy\s+GET https:\/\/portal-\w+\.demo\.localhost\/health: HTTP 200/)
    assert.doesNotMatch(run.stdout, /\u001B\[/, 'no colour when stdout is not a terminal')
  })

  it('exits 4 for a degraded demo, marks it degraded and prints the --json report first', async () => {
    const world = new World()
    const demo = await aLiveDemo(world)
    world.prober.answer(`${demo.candidateUrl}/health`, {status: 404})
    const run = await runInProcess(Health, [demo.id, '--json'], world)
    assert.equal(run.exitCode, 4, said(run))
    const report = JSON.parse(run.stdout) as HealthReport
    assert.equal(report.result, 'degraded')
    assert.deepEqual(report.demos[0]?.change, {kind: 'degraded'})
    assert.equal(report.demos[0]?.status, 'degraded')
    assert.equal(report.demos[0]?.checks.find((c) => c.name === 'url candidate')?.url?.status, 404)
    assert.equal((await world.store.get(demo.id))?.status, 'degraded')
  })

  it('exits 5 for an unhealthy demo (its namespace deleted by hand)', async () => {
    const world = new World()
    const demo = await aLiveDemo(world)
    world.cluster.namespaces.delete(demo.namespace)
    const run = await runInProcess(Health, [demo.id, '--no-urls'], world)
    assert.equal(run.exitCode, 5, said(run))
    assert.match(run.stdout, /namespace\s+unhealthy\s+namespace demo-\w+ does not exist/)
    assert.match(run.stdout, /urls\s+skipped/)
    assert.deepEqual(world.prober.probed, [])
  })

  it('colours the results with FORCE_COLOR and not with NO_COLOR', async () => {
    const world = new World()
    const demo = await aLiveDemo(world)
    const forced = await runInProcess(Health, [demo.id], world, {env: {FORCE_COLOR: '1'}})
    assert.match(forced.stdout, /\u001B\[32mhealthy\u001B\[39m/)
    const off = await runInProcess(Health, [demo.id], world, {env: {NO_COLOR: '1'}})
    assert.doesNotMatch(off.stdout, /\u001B\[/)
  })

  it('refuses an id together with --all with exit 2, and checks nothing', async () => {
    const world = new World()
    const demo = await aLiveDemo(world)
    const run = await runInProcess(Health, [demo.id, '--all'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /Give a demo id or --all, not both/)
    assert.deepEqual(world.prober.probed, [])
    assert.equal(world.storeOpened, false)
  })

  it('refuses no id and no --all, and a --concurrency out of range, with exit 2', async () => {
    const world = new World()
    assert.equal((await runInProcess(Health, [], world)).exitCode, 2)
    const run = await runInProcess(Health, ['--all', '--concurrency', '0'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /--concurrency must be between 1 and 50, got 0/)
  })

  it('fails with exit 1 for an unknown id, and for a destroyed demo', async () => {
    const world = new World()
    const unknown = await runInProcess(Health, ['nosuchid'], world)
    assert.equal(unknown.exitCode, 1, said(unknown))
    assert.match(unknown.stderr, /No demo matches "nosuchid"/)
    const gone = await world.aStoredDemo({status: 'destroyed'})
    const run = await runInProcess(Health, [gone.id], world)
    assert.equal(run.exitCode, 1, said(run))
    assert.match(run.stderr, /Cannot check the health of demo "\w+": it is destroyed\./)
  })
})

describe('demo health --all (in process)', () => {
  it('checks every ready or degraded demo and exits with the worst result', async () => {
    const world = new World()
    const good = await aLiveDemo(world)
    const bad = await aLiveDemo(world)
    world.cluster.setDeployment(bad.namespace, 'portal', {available: false, reason: 'pod portal-1: CrashLoopBackOff: back-off 5m0s'})
    await world.aStoredDemo({status: 'creating'})
    const run = await runInProcess(Health, ['--all', '--json', '--concurrency', '1'], world)
    assert.equal(run.exitCode, 5, said(run))
    const report = JSON.parse(run.stdout) as HealthReport
    assert.deepEqual(
      report.demos.map((d) => [d.id, d.result]).sort(),
      [
        [good.id, 'healthy'],
        [bad.id, 'unhealthy'],
      ].sort(),
    )
    assert.match(JSON.stringify(report), /CrashLoopBackOff/)
  })

  it('says so and exits 0 when there is nothing to check', async () => {
    const run = await runInProcess(Health, ['--all'], new World())
    assert.equal(run.exitCode, 0, said(run))
    assert.equal(run.stdout, 'No ready or degraded demos to check.\n')
  })
})

describe('demo wait (in process)', () => {
  it('marks a creating demo ready once every Deployment is Available, with the wait in its timings', async () => {
    const world = new World({services: onlyServices({portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'}})})
    const demo = await aLiveDemo(world, {status: 'creating'})
    await world.store.update(demo.id, demo.version, {phaseTimings: {record: 0.1, namespace: 1, database: 0, secrets: 0.1, services: 1, ingress: 0.1}})
    world.cluster.setDeployment(demo.namespace, 'portal', {available: false})
    world.sleeper.onSleep = (_ms, index) => {
      if (index === 2) world.cluster.setDeployment(demo.namespace, 'portal', {available: true})
    }
    const run = await runInProcess(Wait, [demo.id, '--json'], world, {env: {DEMO_USER: 'ci@example.com'}})
    assert.equal(run.exitCode, 0, said(run))
    const row = await world.store.get(demo.id)
    assert.equal(row?.status, 'ready')
    assert.equal(typeof row?.phaseTimings.wait, 'number')
    assert.equal(typeof row?.phaseTimings.total, 'number')
    assert.equal((await world.store.events(demo.id)).at(-1)?.type, 'ready')
  })

  it('rolls a creating demo back as create does when it does not come up in time', async () => {
    const world = new World()
    const demo = await aLiveDemo(world, {status: 'creating'})
    await world.store.update(demo.id, demo.version, {phaseTimings: {ingress: 0.1}})
    world.cluster.setDeployment(demo.namespace, 'portal', {available: false, reason: 'pod portal-1 is not ready: ContainersNotReady'})
    const run = await runInProcess(Wait, [demo.id, '--timeout', '30s'], world)
    assert.equal(run.exitCode, 1, said(run))
    assert.match(run.stderr, /Timed out after 30s waiting for deployments.*portal \(pod portal-1 is not ready/)
    assert.match(run.stderr, /Rolled back: namespace demo-\w+ and the database are gone/)
    const row = await world.store.get(demo.id)
    assert.equal(row?.status, 'failed')
    assert.equal(world.cluster.namespaces.has(demo.namespace), false)
  })

  it('marks a destroying demo destroyed once its namespace is gone', async () => {
    const world = new World()
    const demo = await aLiveDemo(world, {status: 'destroying'})
    await world.cluster.deleteNamespace({demoId: demo.id, namespace: demo.namespace})
    const run = await runInProcess(Wait, [demo.id], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, /is destroyed: namespace demo-\w+ (is|was already) gone/)
    assert.equal((await world.store.get(demo.id))?.status, 'destroyed')
  })

  it('exits 0 at once for a demo already ready or destroyed, saying so', async () => {
    const world = new World()
    for (const status of ['ready', 'destroyed'] as const) {
      const demo = await world.aStoredDemo({status})
      const run = await runInProcess(Wait, [demo.id], world)
      assert.equal(run.exitCode, 0, said(run))
      assert.equal(run.stdout, `Demo ${demo.id} is already ${status}; nothing to wait for.\n`)
    }
    assert.deepEqual(world.cluster.calls, [])
  })

  it('refuses a creating demo whose create never finished applying, and an unknown id', async () => {
    const world = new World()
    const demo = await world.aStoredDemo({status: 'creating'})
    const run = await runInProcess(Wait, [demo.id], world)
    assert.equal(run.exitCode, 1, said(run))
    assert.match(run.stderr, /never finished applying the stack/)
    assert.equal((await world.store.get(demo.id))?.status, 'creating')
    assert.equal((await runInProcess(Wait, ['nosuchid'], world)).exitCode, 1)
    assert.equal((await runInProcess(Wait, [demo.id, '--timeout', '300'], world)).exitCode, 2)
  })
})
