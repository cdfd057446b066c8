// The health use case against in-memory fakes and a fixed clock: each check's verdict, the worst-check rule,
// and the ready ⇄ degraded transitions with their events (compare-and-set, never on other statuses).
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  checkAllHealth,
  checkDemoHealth,
  decideTransition,
  deploymentCheck,
  demoHealthUrls,
  healthUrl,
  mapBounded,
  overallResult,
  probeUrl,
  urlCheck,
  type HealthDeps,
  type HealthOptions,
} from '../../src/core/check-health.js'
import type {Demo} from '../../src/core/demo.js'
import type {DeploymentState, UrlProbeResult} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock, ownershipMarks} from '../fakes/builders.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {databasesFor, FakeDatabases} from '../fakes/fake-databases.js'
import {FakeUrlProber} from '../fakes/fake-url-prober.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

const NOW = new Date('2026-11-25T12:00:00Z')

function aState(overrides: Partial<DeploymentState> = {}): DeploymentState {
  return {name: 'web', desired: 1, ready: 1, available: 1, reason: null, ...overrides}
}

function anAnswer(overrides: Partial<UrlProbeResult> = {}): UrlProbeResult {
  return {status: 200, latencyMs: 12, location: null, tls: null, error: null, ...overrides}
}

describe('the verdict of each check', () => {
  it('makes a deployment with no replica available unhealthy and one with some missing degraded, naming why', () => {
    const none = deploymentCheck(aState({available: 0, ready: 0, reason: 'pod web-1 is not ready: ContainersNotReady'}), NOW)
    assert.deepEqual([none.name, none.result], ['deployment web', 'unhealthy'])
    assert.match(none.detail, /0\/1 available.*pod web-1 is not ready: ContainersNotReady/)
    const some = deploymentCheck(aState({desired: 3, available: 2, ready: 2, reason: 'pod web-3: CrashLoopBackOff'}), NOW)
    assert.equal(some.result, 'degraded')
  })

  it('counts restarts of the last hour against an Available deployment, and forgets older ones', () => {
    const recent = deploymentCheck(aState({restarts: [{pod: 'web-1', count: 4, lastAt: new Date(NOW.getTime() - 10 * 60_000)}]}), NOW)
    assert.equal(recent.result, 'degraded')
    assert.match(recent.detail, /pod web-1 restarted \(4 in all, last 10m ago\)/)
    const old = deploymentCheck(aState({restarts: [{pod: 'web-1', count: 4, lastAt: new Date(NOW.getTime() - 2 * 3_600_000)}]}), NOW)
    assert.equal(old.result, 'healthy')
  })

  it('judges a URL by its status, its certificate and where it redirects', () => {
    const verdict = (answer: Partial<UrlProbeResult>) => urlCheck('url portal', 'https://p/health', anAnswer(answer), NOW).result
    assert.equal(verdict({}), 'healthy')
    assert.equal(verdict({status: 500}), 'unhealthy')
    assert.equal(verdict({status: 404}), 'degraded')
    assert.equal(verdict({status: null, error: 'timed out after 5s'}), 'unhealthy')
    assert.equal(verdict({status: 302, location: 'https://login.example/'}), 'degraded')
    assert.equal(verdict({tls: {valid: false, error: 'CERT_HAS_EXPIRED', validTo: new Date(NOW.getTime() - 86_400_000)}}), 'unhealthy')
    assert.equal(verdict({tls: {valid: true, error: null, validTo: new Date(NOW.getTime() + 3 * 86_400_000)}}), 'degraded')
    const good = urlCheck(
      'url portal',
      'https://p/health',
      anAnswer({tls: {valid: true, error: null, validTo: new Date(NOW.getTime() + 40 * 86_400_000)}}),
      NOW,
    )
    assert.deepEqual(good.url, {url: 'https://p/health', status: 200, latencyMs: 12, tlsDaysLeft: 40})
    assert.match(good.detail, /HTTP 200 in 12 ms; TLS valid for 40 more days/)
  })

  it('takes the worst check as the result; unknown counts as unhealthy and skipped as healthy', () => {
    assert.equal(overallResult([]), 'healthy')
    assert.equal(overallResult([{result: 'healthy'}, {result: 'skipped'}]), 'healthy')
    assert.equal(overallResult([{result: 'healthy'}, {result: 'degraded'}]), 'degraded')
    assert.equal(overallResult([{result: 'degraded'}, {result: 'unknown'}]), 'unhealthy')
  })

  it('puts the health path under the demo URL, keeping a path of its own', () => {
    assert.equal(healthUrl('https://portal-x.demo.localhost', '/health'), 'https://portal-x.demo.localhost/health')
    assert.equal(healthUrl('http://127.0.0.1:8080/demos/x/', '/healthz'), 'http://127.0.0.1:8080/demos/x/healthz')
    assert.deepEqual(
      demoHealthUrls(
        {api: {healthPath: '/h'}, portal: {host: 'portal', healthPath: '/ready'}, cand: {host: 'candidate', healthPath: '/health'}},
        {
          portalUrl: 'https://p.example',
          candidateUrl: 'https://c.example',
        },
      ),
      [
        {name: 'url portal', url: 'https://p.example/ready'},
        {name: 'url candidate', url: 'https://c.example/health'},
      ],
    )
  })
})

describe('probeUrl', () => {
  it('follows a redirect to the same host but never one to another host', async () => {
    const prober = new FakeUrlProber()
    prober.answer('http://p.example/health', {status: 301, location: '/health/'})
    prober.answer('http://p.example/health/', {status: 302, location: 'https://sso.example/login'})
    const answer = await probeUrl(prober, 'http://p.example/health', 1000)
    assert.deepEqual(prober.probed, ['http://p.example/health', 'http://p.example/health/'])
    assert.equal(answer.location, 'https://sso.example/login')
  })
})

it('mapBounded keeps at most `limit` tasks in flight and the results in order', async () => {
  let inFlight = 0
  let most = 0
  const results = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    inFlight++
    most = Math.max(most, inFlight)
    await new Promise((resolve) => setImmediate(resolve))
    inFlight--
    return n * 2
  })
  assert.deepEqual(results, [2, 4, 6, 8, 10, 12, 14])
  assert.equal(most, 3)
})

/** A store, a cluster holding the demo's namespace with one Deployment, and a prober: a healthy demo to break. */
class HealthWorld {
  readonly store = new MemoryDemoStore()
  readonly cluster = new FakeCluster('test')
  readonly databases = new FakeDatabases()
  readonly prober = new FakeUrlProber()
  readonly clock = fixedClock('2026-11-25T12:00:00Z')
  readonly deps: HealthDeps = {
    store: this.store,
    clusterFor: async () => this.cluster,
    databasesFor: databasesFor(this.databases),
    prober: this.prober,
    clock: this.clock,
  }
  readonly options: HealthOptions = {urls: (d) => [{name: 'url portal', url: `${d.portalUrl}/health`}], urlTimeoutMs: 5000, actor: 'health-bot'}

  async aDemo(overrides: Partial<Demo> = {}): Promise<Demo> {
    const demo = aNewDemo({status: 'ready', ...overrides})
    const result = await this.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    if (!('inserted' in result)) throw new Error('refused')
    this.cluster.addNamespace(demo.namespace, ownershipMarks(demo.id))
    await this.cluster.apply(
      [{apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: demo.namespace, ...ownershipMarks(demo.id)}}],
      {
        demoId: demo.id,
        namespace: demo.namespace,
      },
    )
    this.prober.answer(`${demo.portalUrl}/health`, {status: 200, tls: {valid: true, error: null, validTo: new Date('2027-01-01T00:00:00Z')}})
    return result.inserted
  }
}

describe('checkDemoHealth', () => {
  it('finds a healthy demo healthy, skips the database of mode none and leaves the row alone', async () => {
    const world = new HealthWorld()
    const demo = await world.aDemo()
    const health = await checkDemoHealth(world.deps, demo, world.options)
    assert.equal(health.result, 'healthy')
    assert.deepEqual(
      health.checks.map((c) => [c.name, c.result]),
      [
        ['namespace', 'healthy'],
        ['deployment web', 'healthy'],
        ['database', 'skipped'],
        ['url portal', 'healthy'],
      ],
    )
    assert.deepEqual(health.change, {kind: 'unchanged', note: null})
    assert.equal((await world.store.get(demo.id))?.version, demo.version)
  })

  it('adds a data-api check for a demo with a Data API: healthy as the adapter says, else unhealthy and degraded on the row', async () => {
    const world = new HealthWorld()
    const supabase = new FakeDatabases('shared-schema')
    const deps = {...world.deps, databasesFor: databasesFor(supabase)}
    const database = {mode: 'shared-schema' as const, schema: 'demo_x', supabase: {projectRef: 'a'.repeat(20), url: 'https://x', anonKey: 'k'}}
    const demo = await world.aDemo({database})
    supabase.dataApi = {healthy: true, detail: 'Data API: 12 rows in demo_x.users as anon'}
    const healthy = await checkDemoHealth(deps, demo, world.options)
    assert.deepEqual(
      healthy.checks.find((c) => c.name === 'data-api'),
      {name: 'data-api', result: 'healthy', detail: supabase.dataApi.detail},
    )
    supabase.dataApi = {healthy: false, detail: 'Data API count of demo_x.users as anon answered 406'}
    const broken = await checkDemoHealth(deps, demo, world.options)
    assert.equal(broken.result, 'unhealthy')
    assert.equal(broken.change.kind, 'degraded')
    supabase.dataApi = undefined
    const without = await checkDemoHealth(deps, broken.demo, world.options)
    assert.ok(!without.checks.some((c) => c.name === 'data-api'))
  })

  it('marks a ready demo degraded with an event naming the deployment, then ready again with a recovered event', async () => {
    const world = new HealthWorld()
    const demo = await world.aDemo()
    world.cluster.setDeployment(demo.namespace, 'web', {available: false, reason: 'pod web-1 is not ready: ContainersNotReady'})
    const sick = await checkDemoHealth(world.deps, demo, world.options)
    assert.equal(sick.result, 'unhealthy')
    assert.deepEqual(sick.change, {kind: 'degraded'})
    assert.equal((await world.store.get(demo.id))?.status, 'degraded')
    world.clock.advance(15 * 60_000)
    world.cluster.setDeployment(demo.namespace, 'web', {available: true})
    const well = await checkDemoHealth(world.deps, (await world.store.get(demo.id)) as Demo, world.options)
    assert.deepEqual(well.change, {kind: 'recovered'})
    const row = await world.store.get(demo.id)
    assert.equal(row?.status, 'ready')
    assert.equal(row?.metadata.health, undefined)
    const events = (await world.store.events(demo.id)).slice(1)
    assert.deepEqual(
      events.map((e) => [e.type, e.actor]),
      [
        ['degraded', 'health-bot'],
        ['recovered', 'health-bot'],
      ],
    )
    assert.match(JSON.stringify(events[0]?.data), /deployment web: unhealthy: 0\/1 available, 0 ready: pod web-1 is not ready/)
    assert.deepEqual(events[1]?.data, {resolved: (events[0]?.data as {problems: string[]}).problems, degradedSeconds: 900})
  })

  it('finds a demo whose namespace was deleted by hand unhealthy', async () => {
    const world = new HealthWorld()
    const demo = await world.aDemo()
    world.cluster.namespaces.delete(demo.namespace)
    const health = await checkDemoHealth(world.deps, demo, {...world.options, urls: () => []})
    assert.equal(health.result, 'unhealthy')
    assert.match(health.checks[0]?.detail ?? '', /namespace demo-\w+ does not exist/)
    assert.equal((await world.store.get(demo.id))?.status, 'degraded')
  })

  it('never changes a creating or destroying demo, and says so', async () => {
    const world = new HealthWorld()
    for (const status of ['creating', 'destroying'] as const) {
      const demo = await world.aDemo({status})
      world.cluster.setDeployment(demo.namespace, 'web', {available: false})
      const health = await checkDemoHealth(world.deps, demo, world.options)
      assert.equal(health.result, 'unhealthy')
      assert.deepEqual(health.change, {kind: 'unchanged', note: `status left ${status}: health changes only ready and degraded demos`})
      assert.equal((await world.store.get(demo.id))?.status, status)
    }
  })

  it('keeps the status when a check could not be made (the API server did not answer)', async () => {
    const world = new HealthWorld()
    const demo = await world.aDemo()
    world.cluster.failNext('namespaceStatus', new Error('connect ECONNREFUSED 127.0.0.1:6443'))
    const health = await checkDemoHealth(world.deps, demo, world.options)
    assert.equal(health.result, 'unhealthy')
    assert.equal(health.checks[0]?.result, 'unknown')
    assert.equal((await world.store.get(demo.id))?.status, 'ready')
  })

  it('decides again on the row as it is now when someone else wrote first', async () => {
    const world = new HealthWorld()
    const demo = await world.aDemo()
    await world.store.update(demo.id, demo.version, {status: 'destroying'})
    world.cluster.setDeployment(demo.namespace, 'web', {available: false})
    const health = await checkDemoHealth(world.deps, demo, world.options)
    assert.equal(health.change.kind, 'unchanged')
    assert.equal((await world.store.get(demo.id))?.status, 'destroying')
  })

  it('decideTransition wants nothing for a degraded demo that is still degraded', () => {
    const demo = {
      ...aNewDemo({status: 'degraded'}),
      version: 2,
      updatedAt: NOW,
      readyAt: NOW,
      destroyedAt: null,
      extensionCount: 0,
      lastError: null,
      phaseTimings: {},
    }
    assert.equal(decideTransition(demo, [{name: 'x', result: 'degraded', detail: ''}], {now: NOW, actor: 'a'}), null)
  })
})

describe('checkAllHealth', () => {
  it('checks every ready or degraded demo and nothing else', async () => {
    const world = new HealthWorld()
    const ready = await world.aDemo()
    const degraded = await world.aDemo({status: 'degraded'})
    await world.aDemo({status: 'creating'})
    await world.aDemo({status: 'failed'})
    const healths = await checkAllHealth(world.deps, {...world.options, concurrency: 2})
    assert.deepEqual(healths.map((h) => h.demo.id).sort(), [ready.id, degraded.id].sort())
    assert.equal((await world.store.get(degraded.id))?.status, 'ready')
  })
})
