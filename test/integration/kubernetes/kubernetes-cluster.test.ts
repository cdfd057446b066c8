import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, type V1Deployment, type V1ReplicaSet} from '@kubernetes/client-node'
import {describeDeployments, soleCurrentReplicaSet} from '../../../src/adapters/kubernetes/deployment-state.js'
import {connectClients, connectKubernetesCluster, type KubernetesCluster} from '../../../src/adapters/kubernetes/kubernetes-cluster.js'
import {ClusterError, ForeignNamespaceError, NamespaceTerminatingError} from '../../../src/core/errors.js'
import {EXPIRES_AT_ANNOTATION, INSTANCE_ANNOTATION, INSTANCE_LABEL, JANITOR_EXPIRES_ANNOTATION, MANAGED_BY_LABEL} from '../../../src/core/labels.js'
import type {DeploymentState, Manifest, Ownership} from '../../../src/core/ports.js'
import {projectConfigSchema} from '../../../src/core/project-config.js'
import {renderStack, type RenderedStack, type TemplateFile} from '../../../src/core/render-stack.js'
import {onlyServices} from '../../fakes/builders.js'
import {deleteTestNamespace, eventually, loadTestKubeConfig, NEVER_READY_LABEL, TEST_NAMESPACE_LABEL} from '../../support/k8s.js'
import {failureOf} from '../../support/failures.js'
import {serviceAccounts, untilAllowed, type TestIdentity} from '../../support/identities.js'

const kubeConfigPath = process.env.DEMO_TEST_KUBECONFIG
const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const apps = kubeConfig.makeApiClient(AppsV1Api)
const objects = KubernetesObjectApi.makeApiClient(kubeConfig)
const TEMPLATES_DIR = join(import.meta.dirname, '../../../templates')

/** The built-in templates, with the test bed's label on the Namespace so a killed run's leftovers can be found. */
function builtInTemplates(edit: (name: string, text: string) => string = (_name, text) => text): TemplateFile[] {
  return readdirSync(TEMPLATES_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      let text = readFileSync(join(TEMPLATES_DIR, name), 'utf8')
      if (name === 'namespace.yaml')
        text = text.replace('  name: "{{NAMESPACE}}"\n', `  name: "{{NAMESPACE}}"\n  labels:\n    ${TEST_NAMESPACE_LABEL}: "true"\n`)
      return {name, text: edit(name, text)}
    })
}

function aDemoId(): string {
  return `it${randomBytes(4).toString('hex')}`
}

function aStack(
  id: string,
  options: {config?: Record<string, unknown>; templates?: TemplateFile[]; autoCleanup?: boolean} = {},
): {stack: RenderedStack; owner: Ownership} {
  const config = projectConfigSchema.parse({namespacePrefix: 'itk-', ...options.config})
  const namespace = `itk-${id}`
  const stack = renderStack({
    config,
    demo: {
      id,
      namespace,
      demoType: 'startup',
      createdBy: 'it@example.com',
      expiresAt: new Date(Date.now() + 3_600_000),
      autoCleanup: options.autoCleanup ?? true,
    },
    database: {database: {mode: 'none'}, secretEnv: {DATABASE_URL: 'postgres://u:p@db.example.com/app'}},
    templates: options.templates ?? builtInTemplates(),
  })
  return {stack, owner: {demoId: id, namespace}}
}

async function aCluster(options: {listPageSize?: number} = {}): Promise<KubernetesCluster> {
  return connectKubernetesCluster({kubeconfig: kubeConfigPath, ...options})
}

async function createForeignNamespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({body: {metadata: {name, labels: {...labels, [TEST_NAMESPACE_LABEL]: 'true'}, annotations}}})
}

function allAvailable(states: DeploymentState[]): DeploymentState[] | undefined {
  return states.length > 0 && states.every((s) => s.reason === null && s.available === s.desired) ? states : undefined
}

/** The stack's namespace made and its objects applied, once every Deployment is Available: their states. */
async function appliedAndAvailable(cluster: KubernetesCluster, stack: RenderedStack, owner: Ownership): Promise<DeploymentState[]> {
  await cluster.ensureNamespace(stack.namespace, owner)
  await cluster.apply(stack.objects, owner)
  return eventually('every Deployment to be Available', async () => allAvailable(await cluster.deployments(owner.namespace)), {timeoutMs: 90_000})
}

async function resourceVersions(manifests: Manifest[]): Promise<Map<string, string | undefined>> {
  const versions = new Map<string, string | undefined>()
  for (const m of manifests) {
    const live = await objects.read({apiVersion: m.apiVersion, kind: m.kind, metadata: {name: m.metadata.name, namespace: m.metadata.namespace}})
    versions.set(`${m.kind}/${m.metadata.name}`, live.metadata?.resourceVersion)
  }
  return versions
}

test('every object of the built-in stack passes server-side validation and admission (dryRun=All)', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))

  await objects.patch(structuredClone(stack.namespace), undefined, 'All', 'demo-cli', true, PatchStrategy.ServerSideApply)
  await cluster.ensureNamespace(stack.namespace, owner)
  for (const manifest of stack.objects) {
    const applied = await objects.patch(structuredClone(manifest), undefined, 'All', 'demo-cli', true, PatchStrategy.ServerSideApply)
    assert.equal(applied.metadata?.name, manifest.metadata.name, `${manifest.kind} ${manifest.metadata.name}`)
  }

  const listed = await core.listNamespacedConfigMap({namespace: owner.namespace})
  assert.ok(
    listed.items.every((cm) => cm.metadata?.name === 'kube-root-ca.crt'),
    'dry run persisted nothing',
  )
})

test('the built-in stack becomes Available under the restricted level and the default quota, and a second apply changes nothing', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))

  const states = await appliedAndAvailable(cluster, stack, owner)
  // Available by their ReplicaSets may come before the deployment controller's last status write: wait for that
  // too, so a changed resourceVersion below can only be the second apply's.
  await eventually('the deployment controller to report every Deployment Available', async () => {
    const listed = await apps.listNamespacedDeployment({namespace: owner.namespace})
    return (
      listed.items.every((d) => d.status?.observedGeneration === d.metadata?.generation && d.status?.availableReplicas === d.spec?.replicas) ||
      undefined
    )
  })
  const before = await resourceVersions(stack.objects)
  await cluster.apply(stack.objects, owner)
  const after = await resourceVersions(stack.objects)

  assert.deepEqual(states.map((s) => s.name).sort(), [...stack.deploymentNames].sort())
  assert.ok(states.every((s) => s.desired === 1 && s.ready === 1))
  assert.deepEqual(after, before)
  const namespace = await core.readNamespace({name: owner.namespace})
  assert.equal(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
})

test('each Deployment of the built-in stack is Available by its ReplicaSet alone, as the API server stores both (template compared but for pod-template-hash)', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))
  await appliedAndAvailable(cluster, stack, owner)
  const {clients} = await connectClients({kubeconfig: kubeConfigPath})
  const ns = encodeURIComponent(owner.namespace)
  // Plain JSON, as the adapter reads it: the deployment controller's own status is dropped, so only the
  // ReplicaSet rule can say Available.
  const deployments = ((await clients.send({method: 'GET', path: `/apis/apps/v1/namespaces/${ns}/deployments`})) as {items: V1Deployment[]}).items
  const replicaSets = ((await clients.send({method: 'GET', path: `/apis/apps/v1/namespaces/${ns}/replicasets`})) as {items: V1ReplicaSet[]}).items

  for (const deployment of deployments)
    assert.equal(
      soleCurrentReplicaSet(deployment, replicaSets)?.metadata?.name?.startsWith(`${deployment.metadata?.name}-`),
      true,
      deployment.metadata?.name,
    )
  const states = describeDeployments({deployments: deployments.map(({status: _status, ...rest}) => rest), replicaSets, pods: [], events: []})
  assert.deepEqual(
    states.map((s) => [s.name, s.reason, s.available]),
    [...stack.deploymentNames].sort().map((name) => [name, null, 1]),
  )
})

test("ensureNamespace adopts a namespace that carries the same demo's marks, and refuses a foreign one without touching it", async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const other = aStack(aDemoId())
  const foreign = `itk-${aDemoId()}`
  const cluster = await aCluster()
  t.after(async () => {
    for (const name of [owner.namespace, foreign]) await deleteTestNamespace(kubeConfig, name)
  })
  await createForeignNamespace(foreign, {team: 'sales'})

  await cluster.ensureNamespace(stack.namespace, owner)
  await cluster.ensureNamespace(stack.namespace, owner)
  const stolen = await failureOf(
    cluster.ensureNamespace(
      {...other.stack.namespace, metadata: {...other.stack.namespace.metadata, name: owner.namespace}},
      {...other.owner, namespace: owner.namespace},
    ),
  )
  const unmarked = await failureOf(
    cluster.ensureNamespace({...stack.namespace, metadata: {...stack.namespace.metadata, name: foreign}}, {...owner, namespace: foreign}),
  )

  assert.ok(stolen instanceof ForeignNamespaceError)
  assert.match(stolen.message, new RegExp(`namespace "${owner.namespace}".*does not carry the marks of demo "${other.owner.demoId}"`))
  assert.ok(unmarked instanceof ForeignNamespaceError)
  const untouched = await core.readNamespace({name: foreign})
  assert.equal(untouched.metadata?.labels?.[MANAGED_BY_LABEL], undefined)
  assert.equal(untouched.metadata?.labels?.team, 'sales')
})

test('a namespace of ours that is still terminating is reported with its blockers and is not adopted', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const cluster = await aCluster()
  t.after(async () => {
    await objects
      .patch(
        {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'held', namespace: owner.namespace, finalizers: []}},
        undefined,
        undefined,
        'it',
        undefined,
        PatchStrategy.MergePatch,
      )
      .catch(() => undefined)
    await deleteTestNamespace(kubeConfig, owner.namespace)
  })
  await cluster.ensureNamespace(stack.namespace, owner)
  await core.createNamespacedConfigMap({namespace: owner.namespace, body: {metadata: {name: 'held', finalizers: ['demo.test/hold']}}})

  assert.equal(await cluster.deleteNamespace(owner), true)
  const status = await eventually('the namespace to report its blockers', async () => {
    const current = await cluster.namespaceStatus(owner.namespace)
    return current.blockers.some((b) => b.startsWith('NamespaceFinalizersRemaining')) ? current : undefined
  })
  const adopt = await failureOf(cluster.ensureNamespace(stack.namespace, owner))

  assert.equal(status.exists, true)
  assert.equal(status.terminating, true)
  assert.ok(
    status.blockers.some((b) => b.includes('demo.test/hold')),
    status.blockers.join('; '),
  )
  assert.ok(adopt instanceof NamespaceTerminatingError)
  assert.match(adopt.message, /still terminating; retry later/)
  assert.equal(await cluster.deleteNamespace(owner), true, 'deleting a terminating namespace again is fine')
})

test('a quota too small for the stack shows "exceeded quota" as the reason of the Deployment that does not fit', async (t) => {
  const services = onlyServices({a: {image: 'example.com/a:1', port: 8080}, b: {image: 'example.com/b:1', port: 8080}})
  const {stack, owner} = aStack(aDemoId(), {config: {services, quota: {'requests.cpu': '150m', 'requests.memory': '1Gi', pods: '5'}}})
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))

  await cluster.ensureNamespace(stack.namespace, owner)
  await cluster.apply(stack.objects, owner)
  const states = await eventually(
    'one Deployment to report the quota',
    async () => {
      const current = await cluster.deployments(owner.namespace)
      return current.some((s) => /exceeded quota/.test(s.reason ?? '')) && current.some((s) => s.reason === null) ? current : undefined
    },
    {timeoutMs: 60_000},
  )

  const blocked = states.find((s) => s.reason !== null)
  assert.equal(blocked?.available, 0)
  assert.match(blocked?.reason ?? '', /exceeded quota: demo-quota/)
})

test('a Deployment whose pods never become Ready has a reason naming the pod that is not ready', async (t) => {
  const neverReady = Object.entries(NEVER_READY_LABEL)
    .map(([k, v]) => `        ${k}: "${v}"\n`)
    .join('')
  const templates = builtInTemplates((name, text) =>
    name === 'service.yaml'
      ? text.replace('    metadata:\n      labels:\n        app.kubernetes.io/name: "{{SERVICE_NAME}}"\n', (m) => m + neverReady)
      : text,
  )
  const {stack, owner} = aStack(aDemoId(), {
    config: {services: onlyServices({web: {image: 'example.com/web:1', port: 8080, host: 'portal'}})},
    templates,
  })
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))

  await cluster.ensureNamespace(stack.namespace, owner)
  await cluster.apply(stack.objects, owner)
  const [state] = await eventually('the pod to be reported not ready', async () => {
    const current = await cluster.deployments(owner.namespace)
    return /is not ready/.test(current[0]?.reason ?? '') ? current : undefined
  })

  assert.equal(state?.available, 0)
  assert.match(state?.reason ?? '', /^pod web-[a-z0-9-]+ is not ready: ContainersNotReady: .*never pass readiness/)
})

test('an invalid object is a ClusterError naming the object and the field', async (t) => {
  const invalid = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  ports:\n    - port: 70000\n'
  const {stack, owner} = aStack(aDemoId(), {templates: [{name: 'broken.yaml', text: invalid}]})
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))
  await cluster.ensureNamespace(stack.namespace, owner)

  const error = await failureOf(cluster.apply(stack.objects, owner))

  assert.ok(error instanceof ClusterError)
  assert.match(
    error.message,
    new RegExp(`Cannot apply Service "broken" in namespace "${owner.namespace}": invalid: .*spec\\.ports\\[0\\]\\.port.*\\(HTTP 422\\)`),
  )
})

test('apply refuses cluster-scoped kinds, objects without our marks and objects outside the demo namespace', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))
  await cluster.ensureNamespace(stack.namespace, owner)
  const marks = {labels: stack.namespace.metadata.labels, annotations: stack.namespace.metadata.annotations}
  const priorityClass: Manifest = {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: {name: `itk-${owner.demoId}`, namespace: owner.namespace, ...marks},
    value: 1000,
  }
  const unmarked: Manifest = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'plain', namespace: owner.namespace}}
  const elsewhere: Manifest = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x', namespace: 'default', ...marks}}

  const scoped = await failureOf(cluster.apply([priorityClass], owner))
  const notMarked = await failureOf(cluster.apply([unmarked], owner))
  const outside = await failureOf(cluster.apply([elsewhere], owner))

  assert.match(scoped.message, /PriorityClass is cluster-scoped/)
  assert.match(notMarked.message, /does not carry the marks/)
  assert.match(outside.message, /objects go only into namespace/)
  const classes = await objects.list('scheduling.k8s.io/v1', 'PriorityClass')
  assert.ok(classes.items.every((pc) => pc.metadata?.name !== `itk-${owner.demoId}`))
})

test('deleteNamespace deletes ours, refuses a foreign namespace, and reports an absent one as already gone', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const foreign = `itk-${aDemoId()}`
  const lookalike = `itk-${aDemoId()}`
  const cluster = await aCluster()
  t.after(async () => {
    for (const name of [owner.namespace, foreign, lookalike]) await deleteTestNamespace(kubeConfig, name)
  })
  await createForeignNamespace(foreign)
  // Our label with another id in the annotation: one stray label is not ownership.
  await createForeignNamespace(lookalike, {[MANAGED_BY_LABEL]: 'demo-cli', [INSTANCE_LABEL]: 'x'}, {[INSTANCE_ANNOTATION]: 'y'})
  await cluster.ensureNamespace(stack.namespace, owner)

  const refused = await failureOf(cluster.deleteNamespace({demoId: 'itforeign', namespace: foreign}))
  const refusedLookalike = await failureOf(cluster.deleteNamespace({demoId: 'x', namespace: lookalike}))
  const deleted = await cluster.deleteNamespace(owner)
  await eventually('our namespace to be gone', async () => ((await cluster.namespaceStatus(owner.namespace)).exists ? undefined : true), {
    timeoutMs: 60_000,
  })
  const again = await cluster.deleteNamespace(owner)

  assert.ok(refused instanceof ForeignNamespaceError)
  assert.ok(refusedLookalike instanceof ForeignNamespaceError)
  assert.equal(deleted, true)
  assert.equal(again, false)
  assert.equal((await core.readNamespace({name: foreign})).metadata?.deletionTimestamp, undefined)
  assert.equal((await core.readNamespace({name: lookalike})).metadata?.deletionTimestamp, undefined)
})

test("deleteNamespace starts deleting the demo's own pods at once, and no pod without its marks", async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const cluster = await aCluster()
  t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))
  await appliedAndAvailable(cluster, stack, owner)
  // A pod someone made by hand, without our marks, meeting the namespace's restricted level.
  await core.createNamespacedPod({
    namespace: owner.namespace,
    body: {
      metadata: {name: 'by-hand', labels: {[MANAGED_BY_LABEL]: 'someone-else'}},
      spec: {
        securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: 'RuntimeDefault'}},
        containers: [
          {
            name: 'c',
            image: 'example.com/by-hand:1',
            securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}},
            resources: {requests: {cpu: '10m', memory: '16Mi'}, limits: {cpu: '10m', memory: '16Mi'}},
          },
        ],
      },
    },
  })
  const before = await core.listNamespacedPod({namespace: owner.namespace, labelSelector: `${INSTANCE_LABEL}=${owner.demoId}`})

  assert.equal(await cluster.deleteNamespace(owner), true)
  // Read at once: the namespace controller acts only 5 s after the namespace's deletion, so whatever is terminating
  // now was deleted by deleteNamespace itself.
  const ours = await core.listNamespacedPod({namespace: owner.namespace, labelSelector: `${INSTANCE_LABEL}=${owner.demoId}`})
  const byHand = await core.readNamespacedPod({namespace: owner.namespace, name: 'by-hand'})

  assert.equal(before.items.length, stack.deploymentNames.length, 'one running pod per Deployment before')
  assert.ok(
    ours.items.every((pod) => pod.metadata?.deletionTimestamp !== undefined),
    ours.items.map((pod) => `${pod.metadata?.name}: ${String(pod.metadata?.deletionTimestamp)}`).join(', '),
  )
  assert.equal(byHand.metadata?.deletionTimestamp, undefined, 'a pod without our marks is left to the namespace controller')
  assert.equal((await core.readNamespace({name: owner.namespace})).status?.phase, 'Terminating')
})

test('deleteNamespace deletes the namespace for an identity that may not delete pods', async (t) => {
  const {stack, owner} = aStack(aDemoId())
  const admin = await aCluster()
  const accounts = await serviceAccounts(kubeConfig, 'nopods', ['deleter'], [{apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'delete']}])
  t.after(async () => {
    await deleteTestNamespace(kubeConfig, owner.namespace)
    await accounts.cleanup()
  })
  const deleter = accounts.identities.deleter as TestIdentity
  await appliedAndAvailable(admin, stack, owner)
  const asDeleter = await connectKubernetesCluster({kubeconfig: deleter.kubeconfig})
  await untilAllowed(deleter, () => asDeleter.namespaceStatus(owner.namespace))

  const deleted = await asDeleter.deleteNamespace(owner)

  assert.equal(deleted, true)
  await eventually('the namespace to be gone', async () => ((await admin.namespaceStatus(owner.namespace)).exists ? undefined : true), {
    timeoutMs: 60_000,
  })
})

test('ownedNamespaces lists every namespace with our marks, across pages, and no other', async (t) => {
  const stacks = [aStack(aDemoId()), aStack(aDemoId()), aStack(aDemoId())]
  const foreign = `itk-${aDemoId()}`
  const lookalike = `itk-${aDemoId()}`
  const cluster = await aCluster({listPageSize: 1})
  t.after(async () => {
    for (const name of [...stacks.map((s) => s.owner.namespace), foreign, lookalike]) await deleteTestNamespace(kubeConfig, name)
  })
  await createForeignNamespace(foreign)
  await createForeignNamespace(lookalike, {[MANAGED_BY_LABEL]: 'demo-cli', [INSTANCE_LABEL]: 'x'}, {[INSTANCE_ANNOTATION]: 'y'})
  for (const {stack, owner} of stacks) await cluster.ensureNamespace(stack.namespace, owner)

  const owned = await cluster.ownedNamespaces()

  const names = owned.map((o) => o.name)
  for (const {stack, owner} of stacks) {
    const entry = owned.find((o) => o.name === owner.namespace)
    assert.equal(entry?.demoId, owner.demoId)
    assert.equal(entry?.terminating, false)
    assert.equal(entry?.expiresAt?.toISOString(), stack.namespace.metadata.annotations?.['demo.splits.network/expires-at'])
  }
  assert.ok(!names.includes(foreign))
  assert.ok(!names.includes(lookalike))
})

test('setExpiry moves janitor/expires with expires-at, and never adds it to a demo created with --no-auto-cleanup', async (t) => {
  const cluster = await aCluster()
  const later = new Date('2031-01-02T03:04:05.678Z')
  for (const autoCleanup of [true, false]) {
    const {stack, owner} = aStack(aDemoId(), {autoCleanup})
    t.after(() => deleteTestNamespace(kubeConfig, owner.namespace))
    await cluster.ensureNamespace(stack.namespace, owner)
    const before = (await core.readNamespace({name: owner.namespace})).metadata?.annotations ?? {}
    assert.equal(before[JANITOR_EXPIRES_ANNOTATION] !== undefined, autoCleanup, `janitor/expires at create, autoCleanup=${autoCleanup}`)

    assert.equal(await cluster.setExpiry(owner, later), true)

    const after = (await core.readNamespace({name: owner.namespace})).metadata?.annotations ?? {}
    assert.equal(after[EXPIRES_AT_ANNOTATION], later.toISOString())
    assert.equal(after[JANITOR_EXPIRES_ANNOTATION], autoCleanup ? '2031-01-02T03:04:05Z' : undefined)
  }
})
