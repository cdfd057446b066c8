// End to end: the built CLI (bin/run.js) against the local control plane and a PostgreSQL database of its own.
// Kept here is what needs a real process, the real cluster or the real store: the whole life cycle with the
// built-in stack, rollbacks of failures the cluster causes (quota, never Ready, API server gone), signals,
// SIGKILL at each checkpoint, a closed pipe, and create reading the preferences `demo config` wrote. create's
// refusals of bad input (exit codes, messages, nothing written), its per-owner limit and --dry-run run in
// process against fakes: test/unit/commands/create-bad-input.test.ts.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'
import {after, before, describe, it} from 'node:test'
import {AppsV1Api, CoreV1Api, NetworkingV1Api} from '@kubernetes/client-node'
import pg from 'pg'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {execa} from 'execa'
import {BIN, cliSandbox, jsonOf, runDemo, startDemo, transcript, type CliSandbox} from '../support/cli.js'
import {eventually, loadTestKubeConfig, NEVER_READY_LABEL, namespaceExists} from '../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const apps = kubeConfig.makeApiClient(AppsV1Api)
const networking = kubeConfig.makeApiClient(NetworkingV1Api)

interface View {
  id: string
  namespace: string
  status: string
  type: string
  createdBy: string
  portalUrl: string
  candidateUrl: string
  expiresAt: string
  lastError: string | null
  extensionCount: number
  phaseTimings: Record<string, number>
  kubeContext: string | null
}

let database: {url: string; drop: () => Promise<void>}

before(async () => {
  database = await scratchDatabase('e2e_create')
})
after(async () => {
  await database.drop()
})

async function row(id: string): Promise<Record<string, unknown> | undefined> {
  const client = new pg.Client({connectionString: database.url})
  await client.connect()
  try {
    const {rows} = await client.query('SELECT * FROM demo_orchestrator.demo_instances WHERE id = $1', [id])
    return rows[0] as Record<string, unknown> | undefined
  } finally {
    await client.end()
  }
}

async function eventTypes(id: string): Promise<string[]> {
  const client = new pg.Client({connectionString: database.url})
  await client.connect()
  try {
    const {rows} = await client.query<{type: string}>('SELECT type FROM demo_orchestrator.demo_events WHERE demo_id = $1 ORDER BY id', [id])
    return rows.map((r) => r.type)
  } finally {
    await client.end()
  }
}

/** Ids of the demos in the state database, newest first (a create that failed early prints no id). */
async function demoIds(): Promise<string[]> {
  const client = new pg.Client({connectionString: database.url})
  await client.connect()
  try {
    const exists = await client.query(`SELECT to_regclass('demo_orchestrator.demo_instances') AS t`)
    if (!(exists.rows[0] as {t: string | null}).t) return []
    const {rows} = await client.query<{id: string}>('SELECT id FROM demo_orchestrator.demo_instances ORDER BY created_at DESC')
    return rows.map((r) => r.id)
  } finally {
    await client.end()
  }
}

/** Two small services keep the failure cases quick; the happy path uses the built-in six. */
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

function sandbox(config: Record<string, unknown> = {}): CliSandbox {
  return cliSandbox({config, databaseUrl: database.url})
}

/** One service whose pods the test bed keeps Running but never Ready (NEVER_READY_LABEL on the pod template). */
function neverReadySandbox(): CliSandbox {
  const [label, value] = Object.entries(NEVER_READY_LABEL)[0] ?? []
  return cliSandbox({
    config: {services: onlyServices({'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000}})},
    databaseUrl: database.url,
    editTemplates: (name, text) =>
      name === 'service.yaml' ? text.replace('    metadata:\n      labels:\n', `    metadata:\n      labels:\n        ${label}: "${value}"\n`) : text,
  })
}

describe('demo create → get → list → extend → destroy with the built-in stack', () => {
  let box: CliSandbox
  let demo: View
  before(() => {
    box = sandbox()
  })

  it('creates a demo whose every Deployment is Available and prints the result as JSON', async () => {
    const result = await runDemo(box, ['create', '--type', 'recruiting-agency', '--json'])
    assert.equal(result.code, 0, transcript(result))
    demo = jsonOf<View>(result)
    assert.equal(demo.status, 'ready')
    assert.equal(demo.type, 'recruiting-agency')
    assert.equal(demo.createdBy, 'alice@example.com')
    assert.equal(demo.namespace, `demo-${demo.id}`)
    assert.equal(demo.portalUrl, `https://portal-${demo.id}.demo.localhost`)
    assert.equal(demo.candidateUrl, `https://candidate-${demo.id}.demo.localhost`)
    for (const phase of ['record', 'namespace', 'database', 'secrets', 'services', 'ingress', 'wait', 'total']) {
      assert.equal(typeof demo.phaseTimings[phase], 'number', `phase timing ${phase}`)
    }
    const password = new URL(database.url).password
    assert.ok(password.length > 0)
    assert.ok(!result.stdout.includes(`:${password}@`) && !result.stderr.includes(`:${password}@`), 'the state database password is never printed')
    // Progress went to stderr, one line per step when not on a TTY.
    assert.match(result.stderr, /Wait until every deployment is Available/)
    const deployments = await apps.listNamespacedDeployment({namespace: demo.namespace})
    assert.deepEqual(deployments.items.map((d) => d.metadata?.name).sort(), [
      'api-gateway',
      'ats-service',
      'candidate',
      'identity-service',
      'network-service',
      'portal',
    ])
    // Ready pods, not the deployments' own status: create may call a deployment Available by its ReplicaSet before
    // the deployment controller has written the same counts into the deployment (docs/decisions.md).
    const pods = await core.listNamespacedPod({namespace: demo.namespace})
    for (const d of deployments.items) {
      const name = d.metadata?.labels?.['app.kubernetes.io/name']
      const ready = pods.items.filter(
        (p) =>
          p.metadata?.labels?.['app.kubernetes.io/name'] === name && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      )
      assert.ok(ready.length >= (d.spec?.replicas ?? 1), `${d.metadata?.name} has its pods ready`)
    }
  })

  it('labels the namespace for ownership, expiry and Pod Security', async () => {
    const ns = await core.readNamespace({name: demo.namespace})
    const labels = ns.metadata?.labels ?? {}
    const annotations = ns.metadata?.annotations ?? {}
    assert.equal(labels['app.kubernetes.io/managed-by'], 'demo-cli')
    assert.equal(labels['demo.splits.network/instance'], demo.id)
    assert.equal(labels['demo.splits.network/demo-type'], 'recruiting-agency')
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted')
    assert.equal(annotations['demo.splits.network/created-by'], 'alice@example.com')
    assert.equal(new Date(annotations['demo.splits.network/expires-at'] ?? '').toISOString(), demo.expiresAt)
    assert.ok(annotations['janitor/expires'], 'janitor/expires is set')
  })

  it("applies the plan's quota, a limit range, the network policies, the Secret and the ingress hosts", async () => {
    const quota = await core.readNamespacedResourceQuota({name: 'demo-quota', namespace: demo.namespace})
    assert.deepEqual(quota.spec?.hard, {
      'limits.cpu': '4',
      'limits.memory': '8Gi',
      persistentvolumeclaims: '0',
      pods: '20',
      'requests.cpu': '2',
      'requests.memory': '4Gi',
      services: '10',
    })
    const limits = await core.listNamespacedLimitRange({namespace: demo.namespace})
    assert.equal(limits.items.length, 1)
    // `default` and `from` are `_default` and `_from` in the client's models: both must reach the server.
    assert.deepEqual(limits.items[0]?.spec?.limits[0]?._default, {cpu: '500m', memory: '256Mi'})
    assert.deepEqual(limits.items[0]?.spec?.limits[0]?.defaultRequest, {cpu: '100m', memory: '128Mi'})
    const policies = await networking.listNamespacedNetworkPolicy({namespace: demo.namespace})
    const names = policies.items.map((p) => p.metadata?.name).sort()
    assert.deepEqual(names, ['allow-dns', 'allow-ingress-controller', 'allow-public-egress', 'allow-same-namespace', 'default-deny'])
    const fromController = policies.items.find((p) => p.metadata?.name === 'allow-ingress-controller')
    assert.equal(fromController?.spec?.ingress?.[0]?._from?.[0]?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'], 'ingress-nginx')
    const secret = await core.readNamespacedSecret({name: 'demo-database', namespace: demo.namespace})
    assert.equal(Buffer.from(secret.data?.DEMO_ID ?? '', 'base64').toString(), demo.id)
    const ingress = await networking.readNamespacedIngress({name: 'demo', namespace: demo.namespace})
    assert.deepEqual(ingress.spec?.rules?.map((r) => r.host).sort(), [`candidate-${demo.id}.demo.localhost`, `portal-${demo.id}.demo.localhost`])
  })

  it('shows the demo in get and list, and extends it', async () => {
    const got = await runDemo(box, ['get', demo.id, '--json'])
    assert.equal(got.code, 0, transcript(got))
    assert.equal(jsonOf<View>(got).status, 'ready')
    const listed = await runDemo(box, ['list'])
    assert.equal(listed.code, 0, transcript(listed))
    assert.match(listed.stdout, new RegExp(`${demo.id}\\s.*recruiting-agency\\s+ready`))
    const extended = await runDemo(box, ['extend', demo.id, '--by', '1h', '--json'])
    assert.equal(extended.code, 0, transcript(extended))
    const view = jsonOf<View>(extended)
    assert.equal(new Date(view.expiresAt).getTime() - new Date(demo.expiresAt).getTime(), 3_600_000)
    assert.equal(view.extensionCount, 1)
    const ns = await core.readNamespace({name: demo.namespace})
    assert.equal(ns.metadata?.annotations?.['demo.splits.network/expires-at'], view.expiresAt, 'kube-janitor and gc see the new expiry')
    assert.equal(ns.metadata?.annotations?.['janitor/expires'], view.expiresAt.replace(/\.\d{3}Z$/, 'Z'))
    assert.equal(ns.metadata?.labels?.['demo.splits.network/instance'], demo.id, 'the labels survive the annotation update')
  })

  it('records who the cluster authenticated the creator as; the same credentials under another declared name may act on it (X9)', async () => {
    // Refusing another authenticated identity is test/e2e/authenticated-owner.test.ts (two ServiceAccounts).
    assert.equal((await row(demo.id))?.authenticated_as, 'demo-testbed-admin')
    assert.equal((await row(demo.id))?.created_by, 'alice@example.com')
    const result = await runDemo({...box, env: {...box.env, DEMO_USER: 'mallory@example.com'}}, ['extend', demo.id, '--by', '1h', '--json'])
    assert.equal(result.code, 0, transcript(result))
  })

  it('destroys it: namespace gone, row destroyed, every step in the events', async () => {
    const result = await runDemo(box, ['destroy', demo.id, '--yes', '--json'])
    assert.equal(result.code, 0, transcript(result))
    assert.equal(jsonOf<{outcome: string}>(result).outcome, 'destroyed')
    assert.equal(await namespaceExists(core, demo.namespace), false)
    const stored = await row(demo.id)
    assert.equal(stored?.status, 'destroyed')
    assert.ok(stored?.destroyed_at instanceof Date)
    assert.deepEqual(await eventTypes(demo.id), ['created', 'ready', 'extended', 'extended', 'destroying', 'destroyed'])
  })

  it('says so when the demo is already destroyed, and succeeds', async () => {
    const result = await runDemo(box, ['destroy', demo.id, '--yes'])
    assert.equal(result.code, 0, transcript(result))
    assert.match(result.stdout, /already destroyed/)
  })
})

describe('demo create failures roll back to an honest failed row', () => {
  it('a quota too small: fails naming the deployment and the quota, and leaves nothing behind', async () => {
    const box = sandbox({
      services: TWO_SERVICES,
      quota: {'requests.cpu': '150m', 'requests.memory': '1Gi', 'limits.cpu': '1', 'limits.memory': '1Gi', pods: '5'},
    })
    const result = await runDemo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(result.code, 1, transcript(result))
    const error = jsonOf<{error: {code: string; message: string; hint: string}}>(result).error
    assert.match(error.message, /Deployment (api-gateway|portal) .*exceeded quota/)
    assert.match(error.message, /Rolled back/)
    const [id] = await demoIds()
    assert.ok(id)
    const stored = await row(id)
    assert.equal(stored?.status, 'failed')
    assert.match(String(stored?.last_error), /exceeded quota/)
    assert.equal(await namespaceExists(core, `demo-${id}`), false)
    assert.deepEqual(await eventTypes(id), ['created', 'rolled-back'])
  })

  it('a deployment that never becomes Ready: the timeout names it, and the namespace is removed', async () => {
    const withTemplates = neverReadySandbox()
    const result = await runDemo(withTemplates, ['create', '--type', 'startup', '--wait-timeout', '8s'])
    assert.equal(result.code, 1, transcript(result))
    assert.match(result.stderr, /Timed out after \d+s waiting for deployments in namespace demo-\w+: api-gateway \(pod api-gateway-\S+ is not ready/)
    assert.match(
      result.stderr,
      /^Hint: Raise --wait-timeout if it is just slow\. To inspect the failure, run the create again with --keep-on-failure: it keeps the namespace\.$/m,
    )
    assert.doesNotMatch(result.stderr, /kubectl/, 'no kubectl hint for a namespace that is gone')
    const [id] = await demoIds()
    assert.ok(id)
    assert.equal((await row(id))?.status, 'failed')
    assert.equal(await namespaceExists(core, `demo-${id}`), false)
  })

  it('--keep-on-failure keeps the namespace for debugging; destroy removes it later', async () => {
    const box = sandbox({services: TWO_SERVICES, quota: {'requests.cpu': '150m', pods: '5'}})
    const result = await runDemo(box, ['create', '--type', 'startup', '--keep-on-failure'])
    assert.equal(result.code, 1, transcript(result))
    assert.match(result.stderr, /Kept namespace demo-\w+ for debugging/)
    assert.equal(result.stderr.match(/kubectl -n demo-\w+ describe deployments/g)?.length, 1, 'the inspect hint is printed once')
    const [id] = await demoIds()
    assert.ok(id)
    assert.equal((await row(id))?.status, 'failed')
    assert.ok(await namespaceExists(core, `demo-${id}`))
    const destroyed = await runDemo(box, ['destroy', id, '--yes'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.equal(await namespaceExists(core, `demo-${id}`), false)
    assert.equal((await row(id))?.status, 'destroyed')
  })

  for (const {signal, says} of [
    {signal: 'SIGINT', says: /^Error: Create of demo \w+ failed: Cancelled: interrupted by Ctrl-C\. Rolled back/m},
    {signal: 'SIGTERM', says: /^Error: Create of demo \w+ failed: Cancelled: interrupted by SIGTERM\. Rolled back/m},
    {signal: 'SIGHUP', says: /^Error: Create of demo \w+ failed: Cancelled: interrupted by SIGHUP \(terminal closed\)\. Rolled back/m},
  ] as const) {
    it(`${signal} while waiting: cancels, rolls back, exits 130`, async () => {
      const withTemplates = neverReadySandbox()
      const running = startDemo(withTemplates, ['create', '--type', 'startup', '--wait-timeout', '5m'])
      let seen = ''
      let sent = false
      running.child.stderr?.on('data', (chunk: Buffer | string) => {
        seen += String(chunk)
        if (seen.includes('Wait until every deployment is Available') && !sent) sent = running.child.kill(signal)
      })
      const result = await running.result
      assert.equal(result.code, 130, transcript(result))
      assert.match(result.stderr, says)
      const [id] = await demoIds()
      assert.ok(id)
      assert.equal((await row(id))?.status, 'failed')
      assert.equal(await namespaceExists(core, `demo-${id}`), false)
    })
  }

  it('a closed pipe (`demo create 2>&1 | head -2`) does not abort the work: the demo is created and recorded ready', async () => {
    const box = sandbox({services: TWO_SERVICES})
    const piped = await execa('bash', ['-c', `"${process.execPath}" "${BIN}" create --type startup 2>&1 | head -2; exit "\${PIPESTATUS[0]}"`], {
      cwd: box.dir,
      env: box.env,
      extendEnv: false,
      reject: false,
      timeout: 300_000,
    })
    assert.equal(piped.exitCode, 0, `exit ${piped.exitCode}\n${String(piped.stdout)}\n${String(piped.stderr)}`)
    assert.equal(String(piped.stdout).trim().split('\n').length, 2, 'head printed its two lines')
    const [id] = await demoIds()
    assert.ok(id)
    assert.equal((await row(id))?.status, 'ready')
    assert.ok(await namespaceExists(core, `demo-${id}`))
    const destroyed = await runDemo(box, ['destroy', id, '--yes'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
  })
})

describe('demo create killed (SIGKILL) at each checkpoint leaves state that destroy finishes', () => {
  for (const checkpoint of ['record', 'namespace', 'secrets', 'services', 'ingress', 'wait']) {
    it(`killed after "${checkpoint}"`, async () => {
      const box = sandbox({services: TWO_SERVICES})
      const before = new Set(await demoIds())
      const killed = await runDemo(box, ['create', '--type', 'startup'], {DEMO_TEST_KILL_AT: checkpoint})
      assert.equal(killed.signal, 'SIGKILL', transcript(killed))
      const id = (await demoIds()).find((x) => !before.has(x))
      assert.ok(id, 'a row was recorded before anything else')
      assert.equal((await row(id))?.status, 'creating')
      if (checkpoint !== 'record') {
        const ns = await core.readNamespace({name: `demo-${id}`})
        assert.equal(ns.metadata?.labels?.['demo.splits.network/instance'], id, 'the namespace carries the marks destroy needs')
      }
      const destroyed = await runDemo(box, ['destroy', id, '--yes'])
      assert.equal(destroyed.code, 0, transcript(destroyed))
      assert.equal(await namespaceExists(core, `demo-${id}`), false)
      assert.equal((await row(id))?.status, 'destroyed')
    })
  }
})

describe('personal preferences', () => {
  it('create takes the default type and duration from `demo config`, and a flag wins over them', async () => {
    const box = sandbox()
    assert.equal((await runDemo(box, ['config', 'set', 'type', 'enterprise'])).code, 0)
    assert.equal((await runDemo(box, ['config', 'set', 'duration', '90m'])).code, 0)
    const planned = await runDemo(box, ['create', '--dry-run', '--json'])
    assert.equal(planned.code, 0, transcript(planned))
    const namespace = jsonOf<{manifests: Array<{metadata: {labels: Record<string, string>; annotations: Record<string, string>}}>}>(planned)
      .manifests[0]
    assert.equal(namespace?.metadata.labels['demo.splits.network/demo-type'], 'enterprise')
    const lifetime = new Date(namespace?.metadata.annotations['demo.splits.network/expires-at'] ?? '').getTime() - Date.now()
    assert.ok(lifetime > 85 * 60_000 && lifetime <= 90 * 60_000, `about 90 minutes, got ${lifetime} ms`)
    const flagged = await runDemo(box, ['create', '--dry-run', '--json', '--type', 'startup'])
    assert.equal(
      jsonOf<{manifests: Array<{metadata: {labels: Record<string, string>}}>}>(flagged).manifests[0]?.metadata.labels[
        'demo.splits.network/demo-type'
      ],
      'startup',
    )
  })
})

describe('the API server stops in the middle of a create', () => {
  it('fails with a clear error, keeps an honest row, and destroy finishes once the server is back', {timeout: 420_000}, async () => {
    const run = promisify(execFile)
    const stateDir = dirname(process.env.DEMO_TEST_KUBECONFIG ?? '')
    const withTemplates = neverReadySandbox()
    const running = startDemo(withTemplates, ['create', '--type', 'startup', '--wait-timeout', '10m'])
    let seen = ''
    let stopped = false
    running.child.stderr?.on('data', (chunk: Buffer | string) => {
      seen += String(chunk)
      if (!stopped && seen.includes('Wait until every deployment is Available')) {
        stopped = true
        const pid = Number(readFileSync(join(stateDir, 'run/kube-apiserver.pid'), 'utf8').split(' ')[0])
        process.kill(pid, 'SIGKILL')
      }
    })
    try {
      const result = await running.result
      assert.ok(stopped, transcript(result))
      assert.equal(result.code, 1, transcript(result))
      assert.match(result.stderr, /Error: .*(connect|refused|reach|unavailable)/i)
      assert.match(result.stderr, /Rollback incomplete/)
      const [id] = await demoIds()
      assert.ok(id)
      const stored = await row(id)
      assert.equal(stored?.status, 'failed', 'the row says failed, not ready or creating')
      assert.match(String(stored?.last_error), /connect|refused|reach|unavailable/i)
      assert.match(result.stderr, new RegExp(`demo destroy ${id}`))
      // The server comes back (same etcd data): the namespace is still there, and destroy removes it.
      await run('bash', [join(import.meta.dirname, '../cluster/up.sh')], {timeout: 180_000})
      await eventually('the API server answers', async () => ((await namespaceExists(core, `demo-${id}`)) ? true : undefined), {timeoutMs: 60_000})
      const destroyed = await runDemo(withTemplates, ['destroy', id, '--yes'])
      assert.equal(destroyed.code, 0, transcript(destroyed))
      assert.equal(await namespaceExists(core, `demo-${id}`), false)
      assert.equal((await row(id))?.status, 'destroyed')
    } finally {
      await run('bash', [join(import.meta.dirname, '../cluster/up.sh')], {timeout: 180_000})
    }
  })
})
