// `demo gc install` / `demo gc uninstall` end to end against the local control plane: what is applied, that a
// second install changes nothing, that --dry-run and bad input write nothing, and what the installed
// ServiceAccount may do with only its own token (TokenRequest): the API server's admission policy refuses a
// namespace without our marks, RBAC refuses Secrets, and a demo's namespace may go. The in-cluster path
// (no kubeconfig, the pod's token files) runs `demo` as the CronJob would, through DEMO_TEST_IN_CLUSTER_ROOT.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {AdmissionregistrationV1Api, BatchV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api} from '@kubernetes/client-node'
import pg from 'pg'
import {INSTANCE_ANNOTATION, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../../src/core/labels.js'
import {scratchDatabase, tempDir} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliSandbox} from '../support/cli.js'
import {apiErrorOf, deleteTestNamespace, eventually, loadTestKubeConfig, namespaceExists, statusMessage} from '../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api)
const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api)
const batch = kubeConfig.makeApiClient(BatchV1Api)

/** Each run installs into a namespace of its own, so its cluster-scoped objects (demo-gc-<namespace>) are its own too. */
const NS = `it-gci-${randomBytes(3).toString('hex')}`
const CLUSTER_NAME = `demo-gc-${NS}`
const INSTALL = ['gc', 'install', '--namespace', NS, '--database-secret', 'demo-state/url', '--image', 'example.invalid/demo-cli:test']

interface InstallJson {
  namespace: string
  objects: Array<{kind: string; name: string; namespace?: string; action: string}>
  warnings: string[]
}

let sandbox: CliSandbox

/** Whether any object of the installation exists (anything labelled for NS, or the namespace itself). */
async function installedObjects(): Promise<string[]> {
  const selector = {labelSelector: `demo.splits.network/gc-installation=${NS}`}
  const found = [
    ...(await admission.listValidatingAdmissionPolicy(selector)).items.map((o) => `ValidatingAdmissionPolicy/${o.metadata?.name}`),
    ...(await admission.listValidatingAdmissionPolicyBinding(selector)).items.map((o) => `ValidatingAdmissionPolicyBinding/${o.metadata?.name}`),
    ...(await rbac.listClusterRole(selector)).items.map((o) => `ClusterRole/${o.metadata?.name}`),
    ...(await rbac.listClusterRoleBinding(selector)).items.map((o) => `ClusterRoleBinding/${o.metadata?.name}`),
  ]
  const namespace = await core.readNamespace({name: NS}).catch(() => undefined)
  if (namespace && !namespace.metadata?.deletionTimestamp) {
    found.push(`Namespace/${NS}`)
    found.push(...(await batch.listNamespacedCronJob({namespace: NS, ...selector})).items.map((o) => `CronJob/${o.metadata?.name}`))
    found.push(...(await core.listNamespacedServiceAccount({namespace: NS, ...selector})).items.map((o) => `ServiceAccount/${o.metadata?.name}`))
  }
  return found
}

/** A token of the installed ServiceAccount, minted through the TokenRequest API. */
async function gcToken(): Promise<string> {
  const request = await core.createNamespacedServiceAccountToken({
    name: 'demo-gc',
    namespace: NS,
    body: {spec: {audiences: [], expirationSeconds: 3600}},
  })
  const token = request.status?.token
  assert.ok(token, 'TokenRequest returned a token')
  return token
}

/** A kubeconfig for the same API server that authenticates with a bearer token only. */
function kubeConfigWithToken(token: string): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster()
  assert.ok(cluster)
  const config = new KubeConfig()
  config.loadFromOptions({
    clusters: [{name: 'test', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: false}],
    users: [{name: 'gc', token}],
    contexts: [{name: 'test', cluster: 'test', user: 'gc'}],
    currentContext: 'test',
  })
  return config
}

/** A namespace carrying a demo's ownership marks (or, with `annotation`, a mismatching instance annotation). */
async function aMarkedNamespace(purpose: string, annotation?: string): Promise<string> {
  const id = `${purpose}${randomBytes(3).toString('hex')}`
  const name = `it-${id}`
  await core.createNamespace({
    body: {
      metadata: {
        name,
        labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: id, 'demo.test/integration': 'true'},
        annotations: {[INSTANCE_ANNOTATION]: annotation ?? id},
      },
    },
  })
  return name
}

async function aForeignNamespace(purpose: string): Promise<string> {
  const name = `it-${purpose}-${randomBytes(3).toString('hex')}`
  await core.createNamespace({body: {metadata: {name, labels: {'demo.test/integration': 'true'}}}})
  return name
}

before(() => {
  sandbox = cliSandbox()
})

after(async () => {
  await runDemo(sandbox, ['gc', 'uninstall', '--namespace', NS])
})

describe('demo gc install: bad input and --dry-run write nothing', () => {
  const cases: Array<[string, string[]]> = [
    ['a schedule that is not a cron expression', ['--schedule', '*/15 * * *']],
    ['a --database-secret without a key', ['--database-secret', 'demo-state']],
    ['a --database-secret with a bad name', ['--database-secret', 'Demo State/url']],
  ]
  for (const [why, extra] of cases) {
    it(`refuses ${why} with exit 2 and applies nothing`, async () => {
      const result = await runDemo(sandbox, [...INSTALL, ...extra, '--json'])
      assert.equal(result.code, 2, transcript(result))
      assert.equal(jsonOf<{error: {code: string}}>(result).error.code, 'E_USAGE')
      assert.deepEqual(await installedObjects(), [])
    })
  }

  it('--dry-run prints the objects and applies nothing', async () => {
    const result = await runDemo(sandbox, [...INSTALL, '--dry-run'])
    assert.equal(result.code, 0, transcript(result))
    assert.match(result.stdout, /kind: ValidatingAdmissionPolicy\n/)
    assert.match(result.stdout, new RegExp(`name: ${CLUSTER_NAME}\n`))
    assert.deepEqual(await installedObjects(), [])
  })
})

describe('demo gc install on the real API server', () => {
  it('applies every object as field manager demo-cli, warning that the database Secret is missing', async () => {
    const result = await runDemo(sandbox, [...INSTALL, '--json'])
    assert.equal(result.code, 0, transcript(result))
    const installed = jsonOf<InstallJson>(result)
    assert.deepEqual(
      installed.objects.map((o) => `${o.kind}/${o.name} ${o.action}`),
      [
        `Namespace/${NS} applied`,
        `ValidatingAdmissionPolicy/${CLUSTER_NAME} applied`,
        `ValidatingAdmissionPolicyBinding/${CLUSTER_NAME} applied`,
        'ServiceAccount/demo-gc applied',
        `ClusterRole/${CLUSTER_NAME} applied`,
        `ClusterRoleBinding/${CLUSTER_NAME} applied`,
        'CronJob/demo-gc applied',
      ],
    )
    assert.match(result.stderr, /Secret "demo-state" in namespace "it-gci-[0-9a-f]+" has no key "url"/)
    const cronJob = await batch.readNamespacedCronJob({name: 'demo-gc', namespace: NS})
    assert.equal(cronJob.spec?.concurrencyPolicy, 'Forbid')
    assert.equal(cronJob.spec?.schedule, '*/15 * * * *')
    assert.equal(cronJob.spec?.jobTemplate.spec?.backoffLimit, 0)
    assert.deepEqual(
      cronJob.metadata?.managedFields?.map((f) => `${f.manager} ${f.operation}`),
      ['demo-cli Apply'],
    )
  })

  it('a second install changes nothing (same generations) and then finds the Secret', async () => {
    // Controllers write the status of a CronJob and a policy (resourceVersion moves); generation moves only with the spec.
    const versions = async () => [
      (await batch.readNamespacedCronJob({name: 'demo-gc', namespace: NS})).metadata?.generation,
      (await rbac.readClusterRole({name: CLUSTER_NAME})).metadata?.resourceVersion,
      (await admission.readValidatingAdmissionPolicy({name: CLUSTER_NAME})).metadata?.generation,
    ]
    const before = await versions()
    await core.createNamespacedSecret({namespace: NS, body: {metadata: {name: 'demo-state'}, stringData: {url: 'postgres://not-used.invalid/x'}}})
    const result = await runDemo(sandbox, [...INSTALL, '--json'])
    assert.equal(result.code, 0, transcript(result))
    assert.deepEqual(jsonOf<InstallJson>(result).warnings, [])
    assert.doesNotMatch(result.stdout + result.stderr, /not-used\.invalid/, 'the Secret value is never printed')
    assert.deepEqual(await versions(), before)
  })

  it('--schedule and --health change the CronJobs on the next install', async () => {
    const result = await runDemo(sandbox, [...INSTALL, '--schedule', '0 * * * *', '--health', '--json'])
    assert.equal(result.code, 0, transcript(result))
    assert.equal((await batch.readNamespacedCronJob({name: 'demo-gc', namespace: NS})).spec?.schedule, '0 * * * *')
    const health = await batch.readNamespacedCronJob({name: 'demo-health', namespace: NS})
    assert.deepEqual(health.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args, ['health', '--all', '--json'])
  })
})

describe('the installed ServiceAccount, with only its own token', () => {
  let asGc: CoreV1Api
  const cleanup: string[] = []

  before(async () => {
    asGc = kubeConfigWithToken(await gcToken()).makeApiClient(CoreV1Api)
    // The policy is loaded by the API server's informers a moment after it is created: wait until a
    // server-side dry-run delete of a namespace without marks is refused by it (a dry run deletes nothing).
    const probe = await aForeignNamespace('gci-probe')
    cleanup.push(probe)
    await eventually('the admission policy in force', async () => {
      const error = await apiErrorOf(asGc.deleteNamespace({name: probe, dryRun: 'All'})).catch(() => undefined)
      return error && /ValidatingAdmissionPolicy/.test(statusMessage(error)) ? true : undefined
    })
  })

  after(async () => {
    for (const name of cleanup) await deleteTestNamespace(kubeConfig, name)
  })

  it('may not delete a namespace without our marks: the admission policy refuses it', async () => {
    const foreign = await aForeignNamespace('gci-foreign')
    cleanup.push(foreign)
    const error = await apiErrorOf(asGc.deleteNamespace({name: foreign}))
    assert.equal(error.code, 403)
    assert.match(
      statusMessage(error),
      new RegExp(`ValidatingAdmissionPolicy '${CLUSTER_NAME}'.*denied request: demo gc may delete or change only namespaces`),
    )
    assert.ok(await namespaceExists(core, foreign))
  })

  it('may not delete kube-system, nor patch a foreign namespace', async () => {
    assert.equal((await apiErrorOf(asGc.deleteNamespace({name: 'kube-system', dryRun: 'All'}))).code, 403)
    const foreign = await aForeignNamespace('gci-patch')
    cleanup.push(foreign)
    const error = await apiErrorOf(asGc.patchNamespace({name: foreign, body: [{op: 'add', path: '/metadata/labels/x', value: 'y'}]}))
    assert.match(statusMessage(error), /ValidatingAdmissionPolicy/)
  })

  it('may not delete a namespace whose instance annotation does not match its label', async () => {
    const half = await aMarkedNamespace('gcihalf', 'someone-else')
    cleanup.push(half)
    const error = await apiErrorOf(asGc.deleteNamespace({name: half}))
    assert.match(statusMessage(error), /ValidatingAdmissionPolicy/)
  })

  it('may not read Secrets, create namespaces or list Secrets anywhere (RBAC)', async () => {
    assert.equal((await apiErrorOf(asGc.readNamespacedSecret({name: 'demo-state', namespace: NS}))).code, 403)
    assert.equal((await apiErrorOf(asGc.listSecretForAllNamespaces())).code, 403)
    assert.equal((await apiErrorOf(asGc.listNamespacedSecret({namespace: 'kube-system'}))).code, 403)
    assert.equal((await apiErrorOf(asGc.createNamespace({body: {metadata: {name: `it-gci-no-${randomBytes(2).toString('hex')}`}}}))).code, 403)
    assert.equal((await apiErrorOf(asGc.listNamespacedConfigMap({namespace: 'kube-system'}))).code, 403)
  })

  it('may read the cluster identity (kube-system) and list namespaces and pods', async () => {
    assert.ok((await asGc.readNamespace({name: 'kube-system'})).metadata?.uid)
    assert.ok((await asGc.listNamespace()).items.length > 0)
    await asGc.listNamespacedPod({namespace: NS})
  })

  it('may delete a namespace that carries a demo ownership marks', async () => {
    const ours = await aMarkedNamespace('gciours')
    cleanup.push(ours)
    await asGc.deleteNamespace({name: ours})
    const after = (await namespaceExists(core, ours)) ? await core.readNamespace({name: ours}).catch(() => undefined) : undefined
    assert.ok(after === undefined || after.metadata?.deletionTimestamp, 'the namespace is gone or terminating')
  })
})

/** The pod's service account files under a root of their own (DEMO_TEST_IN_CLUSTER_ROOT), and the env of a pod. */
function inClusterEnv(token: string): NodeJS.ProcessEnv {
  const root = tempDir('demo-in-cluster-')
  const dir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
  mkdirSync(dir, {recursive: true})
  const cluster = kubeConfig.getCurrentCluster()
  assert.ok(cluster?.caData, 'the test kubeconfig embeds its CA')
  writeFileSync(join(dir, 'token'), token)
  writeFileSync(join(dir, 'ca.crt'), Buffer.from(cluster.caData, 'base64'))
  writeFileSync(join(dir, 'namespace'), NS)
  const server = new URL(cluster.server)
  return {KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, DEMO_TEST_IN_CLUSTER_ROOT: root}
}

describe('demo in a pod: in-cluster config, no kubeconfig', () => {
  let database: {url: string; drop: () => Promise<void>}
  let admin: string
  const adminName = `${NS}-admin`

  before(async () => {
    database = await scratchDatabase('e2e_gc_install')
    // Someone with the rights to create demos, also through in-cluster config: a ServiceAccount bound to cluster-admin.
    await core.createNamespacedServiceAccount({namespace: NS, body: {metadata: {name: 'it-admin'}}})
    await rbac.createClusterRoleBinding({
      body: {
        metadata: {name: adminName},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin'},
        subjects: [{kind: 'ServiceAccount', name: 'it-admin', namespace: NS}],
      },
    })
    const request = await core.createNamespacedServiceAccountToken({
      name: 'it-admin',
      namespace: NS,
      body: {spec: {audiences: [], expirationSeconds: 3600}},
    })
    admin = request.status?.token ?? ''
  })

  after(async () => {
    await rbac.deleteClusterRoleBinding({name: adminName}).catch(() => {})
    await database.drop()
  })

  it('creates a demo with a pod token; only as a trusted identity may the gc ServiceAccount destroy it with `demo destroy`', async () => {
    const env = {DEMO_DATABASE_URL: database.url}
    const created = await runDemo(sandbox, ['create', '--type', 'startup', '--json', '--wait-timeout', '120s'], {...env, ...inClusterEnv(admin)})
    assert.equal(created.code, 0, transcript(created))
    const demo = jsonOf<{id: string; namespace: string; status: string}>(created)
    assert.equal(demo.status, 'ready')
    const gcEnv = {...env, ...inClusterEnv(await gcToken())}
    // The row records the creator's authenticated identity (X9): another identity is refused unless trusted.
    const refused = await runDemo(sandbox, ['destroy', demo.id, '--yes', '--json'], gcEnv)
    assert.equal(refused.code, 1, transcript(refused))
    assert.ok(await namespaceExists(core, demo.namespace), 'a refused destroy deletes nothing')
    const config = join(tempDir('gc-trusted'), 'demo.config.yaml')
    writeFileSync(config, `trustedIdentities:\n  - system:serviceaccount:${NS}:demo-gc\n`)
    const destroyed = await runDemo(sandbox, ['destroy', demo.id, '--yes', '--json', '--config', config], gcEnv)
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.equal(jsonOf<{outcome: string}>(destroyed).outcome, 'destroyed')
    assert.equal(await namespaceExists(core, demo.namespace), false)
    assert.doesNotMatch(destroyed.stdout + destroyed.stderr, /eyJ/, 'no token in the output')
  })
  it('runs `demo gc --json` with only the gc ServiceAccount token, as the CronJob does, and destroys the expired demo', async () => {
    const env = {DEMO_DATABASE_URL: database.url}
    const create = async () => {
      const created = await runDemo(sandbox, ['create', '--type', 'startup', '--json', '--wait-timeout', '120s'], {...env, ...inClusterEnv(admin)})
      assert.equal(created.code, 0, transcript(created))
      return jsonOf<{id: string; namespace: string}>(created)
    }
    const expired = await create()
    const current = await create()
    await sql(
      database.url,
      `UPDATE demo_orchestrator.demo_instances SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 minute' WHERE id = $1`,
      [expired.id],
    )
    const gc = await runDemo(sandbox, ['gc', '--json'], {...env, ...inClusterEnv(await gcToken())})
    assert.equal(gc.code, 0, transcript(gc))
    assert.equal(await namespaceExists(core, expired.namespace), false)
    assert.ok(await namespaceExists(core, current.namespace), 'the demo that has not expired stays')
    const rows = await sql(database.url, 'SELECT id, status FROM demo_orchestrator.demo_instances WHERE id = ANY($1) ORDER BY id', [
      [expired.id, current.id],
    ])
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.status])), {[expired.id]: 'destroyed', [current.id]: 'ready'})
    assert.doesNotMatch(gc.stdout + gc.stderr, /eyJ|demo_test:demo_test@/, 'no token or database password in the output')
  })
})

/** One statement against the test's state database. */
async function sql(url: string, text: string, values: unknown[]): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    return (await client.query(text, values)).rows as Array<Record<string, unknown>>
  } finally {
    await client.end()
  }
}

describe('demo gc uninstall', () => {
  it('removes exactly what install made, and a second run finds nothing', async () => {
    const bystander = await aForeignNamespace('gci-bystander')
    const result = await runDemo(sandbox, ['gc', 'uninstall', '--namespace', NS, '--json'])
    assert.equal(result.code, 0, transcript(result))
    const kinds = jsonOf<{deleted: Array<{kind: string}>}>(result).deleted.map((r) => r.kind)
    assert.deepEqual(kinds, [
      'CronJob',
      'CronJob',
      'ClusterRoleBinding',
      'ClusterRole',
      'ServiceAccount',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicy',
      'Namespace',
    ])
    assert.deepEqual(await installedObjects(), [])
    assert.ok(await namespaceExists(core, bystander))
    const again = await runDemo(sandbox, ['gc', 'uninstall', '--namespace', NS, '--json'])
    assert.equal(again.code, 0, transcript(again))
    assert.deepEqual(jsonOf<{deleted: unknown[]}>(again).deleted, [])
    await deleteTestNamespace(kubeConfig, bystander)
  })

  it('installs into a namespace that existed before, and uninstall leaves that namespace alone', async () => {
    const existing = await aForeignNamespace('gci-own')
    try {
      const install = ['gc', 'install', '--namespace', existing, '--database-secret', 'demo-state/url', '--json']
      const installed = await runDemo(sandbox, install)
      assert.equal(installed.code, 0, transcript(installed))
      assert.equal(jsonOf<InstallJson>(installed).objects[0]?.action, 'kept')
      const removed = await runDemo(sandbox, ['gc', 'uninstall', '--namespace', existing, '--json'])
      assert.equal(removed.code, 0, transcript(removed))
      assert.ok(!jsonOf<{deleted: Array<{kind: string}>}>(removed).deleted.some((r) => r.kind === 'Namespace'))
      assert.ok(await namespaceExists(core, existing))
    } finally {
      await runDemo(sandbox, ['gc', 'uninstall', '--namespace', existing])
      await deleteTestNamespace(kubeConfig, existing)
    }
  })

  it('install refuses, writing nothing, when a ClusterRole of its name exists that it did not make', async () => {
    const namespace = `it-gci-${randomBytes(3).toString('hex')}`
    const name = `demo-gc-${namespace}`
    await rbac.createClusterRole({body: {metadata: {name}, rules: []}})
    try {
      const result = await runDemo(sandbox, ['gc', 'install', '--namespace', namespace, '--database-secret', 'demo-state/url', '--json'])
      assert.equal(result.code, 1, transcript(result))
      assert.match(jsonOf<{error: {message: string}}>(result).error.message, new RegExp(`ClusterRole "${name}" exists and was not made by`))
      assert.equal(await namespaceExists(core, namespace), false, 'nothing was applied')
      assert.deepEqual((await rbac.readClusterRole({name})).rules ?? [], [])
    } finally {
      await rbac.deleteClusterRole({name})
    }
  })
})
