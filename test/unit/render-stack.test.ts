import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {dump, loadAll} from 'js-yaml'
import {loadTemplates} from '../../src/adapters/kubernetes/templates-loader.js'
import {UsageError} from '../../src/core/errors.js'
import {
  CREATED_BY_ANNOTATION,
  DEMO_TYPE_LABEL,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  JANITOR_EXPIRES_ANNOTATION,
  MANAGED_BY_LABEL,
  POD_SECURITY_REASON_ANNOTATION,
} from '../../src/core/labels.js'
import type {DatabaseAccess, Manifest} from '../../src/core/ports.js'
import {projectConfigSchema, type ProjectConfig} from '../../src/core/project-config.js'
import {CLUSTER_SCOPED_KINDS, demoUrls, renderStack, type RenderInput, type TemplateFile, splitPolicyFirst} from '../../src/core/render-stack.js'
import {onlyServices} from '../fakes/builders.js'

const TEMPLATES_DIR = join(import.meta.dirname, '../../templates')
const BUILT_IN: TemplateFile[] = readdirSync(TEMPLATES_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({name, text: readFileSync(join(TEMPLATES_DIR, name), 'utf8')}))
const SECRET = 'postgres://demo_k3x9a2bq:s3cr3t-canary@db.example.com:5432/app'

function aConfig(overrides: Record<string, unknown> = {}): ProjectConfig {
  return projectConfigSchema.parse(overrides)
}

function aDatabase(secretEnv: Record<string, string> = {DATABASE_URL: SECRET}): DatabaseAccess {
  return {database: {mode: 'shared-schema', schema: 'demo_k3x9a2bq', supabase: null}, secretEnv}
}

function anInput(
  overrides: {config?: ProjectConfig; demo?: Partial<RenderInput['demo']>; templates?: TemplateFile[]; database?: DatabaseAccess} = {},
): RenderInput {
  return {
    config: overrides.config ?? aConfig(),
    demo: {
      id: 'k3x9a2bq',
      namespace: 'demo-k3x9a2bq',
      demoType: 'recruiting-agency',
      createdBy: 'alice@example.com',
      expiresAt: new Date('2026-11-26T14:05:00.123Z'),
      autoCleanup: true,
      ...overrides.demo,
    },
    database: overrides.database ?? aDatabase(),
    templates: overrides.templates ?? BUILT_IN,
  }
}

function all(stack: {namespace: Manifest; objects: Manifest[]}): Manifest[] {
  return [stack.namespace, ...stack.objects]
}

function find(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))
  assert.ok(found, `${kind} ${name ?? ''} is rendered`)
  return found
}

function podSpecOf(deployment: Manifest): {containers: Record<string, unknown>[]} & Record<string, unknown> {
  return (deployment.spec as {template: {spec: {containers: Record<string, unknown>[]}}}).template.spec
}

function renderError(input: RenderInput): UsageError {
  try {
    renderStack(input)
  } catch (error) {
    assert.ok(error instanceof UsageError, `a UsageError, got ${String(error)}`)
    return error
  }
  assert.fail('expected renderStack to throw')
}

test('every rendered object carries the managed-by, instance and type labels and the created-by and expires-at annotations', () => {
  const stack = renderStack(anInput())

  for (const object of all(stack)) {
    const what = `${object.kind}/${object.metadata.name}`
    assert.equal(object.metadata.labels?.[MANAGED_BY_LABEL], 'demo-cli', what)
    assert.equal(object.metadata.labels?.[INSTANCE_LABEL], 'k3x9a2bq', what)
    assert.equal(object.metadata.labels?.[DEMO_TYPE_LABEL], 'recruiting-agency', what)
    assert.equal(object.metadata.annotations?.[CREATED_BY_ANNOTATION], 'alice@example.com', what)
    assert.equal(object.metadata.annotations?.[EXPIRES_AT_ANNOTATION], '2026-11-26T14:05:00.123Z', what)
  }
})

test('every object except the Namespace lives in the demo namespace', () => {
  const stack = renderStack(anInput())

  assert.equal(stack.namespace.metadata.name, 'demo-k3x9a2bq')
  assert.equal(stack.namespace.metadata.namespace, undefined)
  assert.deepEqual(new Set(stack.objects.map((o) => o.metadata.namespace)), new Set(['demo-k3x9a2bq']))
})

test('the built-in stack has a quota, limits, network policies, a secret, a Deployment and Service per service and an Ingress', () => {
  const stack = renderStack(anInput())
  const kinds = stack.objects.map((o) => `${o.kind}/${o.metadata.name}`)

  assert.deepEqual(kinds.slice(0, 2), ['ResourceQuota/demo-quota', 'LimitRange/demo-defaults'])
  for (const name of ['default-deny', 'allow-same-namespace', 'allow-ingress-controller', 'allow-dns', 'allow-public-egress']) {
    assert.ok(kinds.includes(`NetworkPolicy/${name}`), name)
  }
  const services = ['api-gateway', 'identity-service', 'ats-service', 'network-service', 'portal', 'candidate']
  assert.deepEqual(stack.deploymentNames, services)
  for (const name of services) assert.ok(kinds.includes(`Service/${name}`), name)
  assert.ok(kinds.includes('Secret/demo-database'))
  assert.ok(kinds.includes('Ingress/demo'))
})

test('a config that overrides one field of a built-in service and disables another renders the merged stack', () => {
  const config = aConfig({services: {portal: {replicas: 2}, candidate: {enabled: false}, worker: {image: 'worker:1', port: 9000}}})

  const stack = renderStack(anInput({config}))

  assert.deepEqual(stack.deploymentNames, ['api-gateway', 'identity-service', 'ats-service', 'network-service', 'portal', 'worker'])
  const portal = find(stack.objects, 'Deployment', 'portal')
  assert.equal((portal.spec as {replicas: unknown}).replicas, 2)
  assert.equal(podSpecOf(portal).containers[0]?.image, 'ghcr.io/splits-network/portal:latest')
  assert.equal(
    stack.objects.some((o) => o.metadata.name === 'candidate'),
    false,
  )
  const rules = (find(stack.objects, 'Ingress').spec as {rules: {http: {paths: {backend: {service: {name: string}}}[]}}[]}).rules
  assert.deepEqual(
    rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name)),
    ['portal'],
  )
})

test("the namespace carries the Pod Security labels of the restricted level and kube-janitor's expiry", () => {
  const {namespace} = renderStack(anInput())
  const labels = namespace.metadata.labels ?? {}

  for (const mode of ['enforce', 'audit', 'warn']) {
    assert.equal(labels[`pod-security.kubernetes.io/${mode}`], 'restricted')
    assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], 'latest')
  }
  assert.equal(namespace.metadata.annotations?.[JANITOR_EXPIRES_ANNOTATION], '2026-11-26T14:05:00Z')
  assert.equal(namespace.metadata.annotations?.[POD_SECURITY_REASON_ANNOTATION], undefined)
})

test('a demo created with --no-auto-cleanup gives kube-janitor no expiry, but keeps its own expires-at', () => {
  const {namespace} = renderStack(anInput({demo: {autoCleanup: false}}))

  assert.equal(namespace.metadata.annotations?.[JANITOR_EXPIRES_ANNOTATION], undefined)
  assert.equal(namespace.metadata.annotations?.[EXPIRES_AT_ANNOTATION], '2026-11-26T14:05:00.123Z')
})

test('only the namespace carries janitor/expires, so an extend of the namespace cannot leave inner objects behind to expire early', () => {
  const stack = renderStack(anInput())

  for (const object of stack.objects) assert.equal(object.metadata.annotations?.[JANITOR_EXPIRES_ANNOTATION], undefined, object.kind)
})

test('the baseline level labels the namespace baseline and records the reason', () => {
  const config = aConfig({podSecurity: {level: 'baseline', reason: 'legacy image needs a writable root'}})

  const {namespace} = renderStack(anInput({config}))

  assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'baseline')
  assert.equal(namespace.metadata.annotations?.[POD_SECURITY_REASON_ANNOTATION], 'legacy image needs a writable root')
})

test('the baseline level without a reason is rejected by the config schema and by the renderer', () => {
  const parsed = projectConfigSchema.safeParse({podSecurity: {level: 'baseline'}})
  const config = {...aConfig(), podSecurity: {level: 'baseline' as const}}

  assert.equal(parsed.success, false)
  assert.match(renderError(anInput({config})).message, /reason/)
})

test("the quota defaults to the plan's values", () => {
  const quota = find(renderStack(anInput()).objects, 'ResourceQuota')

  assert.deepEqual((quota.spec as {hard: unknown}).hard, {
    'requests.cpu': '2',
    'requests.memory': '4Gi',
    'limits.cpu': '4',
    'limits.memory': '8Gi',
    pods: '20',
    services: '10',
    persistentvolumeclaims: '0',
  })
})

test('the quota comes from the config as a map, inserted as data rather than text', () => {
  const config = aConfig({quota: {pods: '3', 'requests.cpu': '500m'}})

  const quota = find(renderStack(anInput({config})).objects, 'ResourceQuota')

  assert.deepEqual((quota.spec as {hard: unknown}).hard, {pods: '3', 'requests.cpu': '500m'})
})

test('a Deployment takes image, port, replicas, resources and health path from its service config, with a restricted-compliant pod', () => {
  const config = aConfig({
    services: onlyServices({
      web: {image: 'registry.example.com/web:1.2', port: 9000, replicas: 2, cpu: '250m', memory: '300Mi', healthPath: '/healthz', host: 'portal'},
    }),
  })

  const deployment = find(renderStack(anInput({config})).objects, 'Deployment', 'web')
  const pod = podSpecOf(deployment)
  const container = pod.containers[0] as {
    image: string
    ports: unknown
    resources: unknown
    envFrom: unknown
    securityContext: unknown
    readinessProbe: {httpGet: {path: string}}
    livenessProbe: {httpGet: {path: string}}
  }

  assert.equal((deployment.spec as {replicas: unknown}).replicas, 2)
  assert.equal(container.image, 'registry.example.com/web:1.2')
  assert.deepEqual(container.ports, [{name: 'http', containerPort: 9000, protocol: 'TCP'}])
  assert.deepEqual(container.resources, {requests: {cpu: '250m', memory: '300Mi'}, limits: {cpu: '500m', memory: '256Mi'}})
  assert.equal(container.readinessProbe.httpGet.path, '/healthz')
  assert.equal(container.livenessProbe.httpGet.path, '/healthz')
  assert.deepEqual(container.envFrom, [{secretRef: {name: 'demo-database'}}])
  assert.deepEqual(container.securityContext, {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: {drop: ['ALL']},
    seccompProfile: {type: 'RuntimeDefault'},
  })
  assert.equal(pod.automountServiceAccountToken, false)
})

test('pods of a Deployment carry our labels, and its selector matches its pods', () => {
  const deployment = find(renderStack(anInput()).objects, 'Deployment', 'portal')
  const spec = deployment.spec as {selector: {matchLabels: Record<string, string>}; template: {metadata: {labels: Record<string, string>}}}

  assert.equal(spec.template.metadata.labels[INSTANCE_LABEL], 'k3x9a2bq')
  assert.equal(spec.template.metadata.labels[MANAGED_BY_LABEL], 'demo-cli')
  for (const [key, value] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[key], value)
})

test("a service's env goes into its Deployment as plain values next to PORT", () => {
  const config = aConfig({services: {api: {image: 'api:1', port: 3000, env: {LOG_LEVEL: 'debug'}}}})

  const container = podSpecOf(find(renderStack(anInput({config})).objects, 'Deployment', 'api')).containers[0]

  assert.deepEqual(container?.env, [
    {name: 'PORT', value: '3000'},
    {name: 'LOG_LEVEL', value: 'debug'},
  ])
})

test('the database secret holds secretEnv plus DEMO_ID and DEMO_TYPE, and the secret appears in no other object', () => {
  const stack = renderStack(anInput())
  const secret = find(stack.objects, 'Secret', 'demo-database')

  assert.equal(secret.type, 'Opaque')
  assert.deepEqual(secret.stringData, {DATABASE_URL: SECRET, DEMO_ID: 'k3x9a2bq', DEMO_TYPE: 'recruiting-agency'})
  for (const object of all(stack).filter((o) => o !== secret)) assert.doesNotMatch(JSON.stringify(object), /s3cr3t-canary/, object.kind)
})

test("demo URLs replace {id} in the config's URL patterns", () => {
  const config = aConfig({ingress: {portalUrl: 'https://{id}.portal.example.com', candidateUrl: 'https://apply.example.com/{id}/jobs'}})

  assert.deepEqual(demoUrls(config, 'k3x9a2bq'), {
    portalUrl: 'https://k3x9a2bq.portal.example.com',
    candidateUrl: 'https://apply.example.com/k3x9a2bq/jobs',
  })
})

test('the Ingress routes the portal and candidate hosts and paths to the services with host: portal and host: candidate', () => {
  const config = aConfig({
    ingress: {className: 'traefik', portalUrl: 'https://{id}.portal.example.com', candidateUrl: 'https://apply.example.com/{id}/jobs'},
  })

  const ingress = find(renderStack(anInput({config})).objects, 'Ingress')

  assert.deepEqual(ingress.spec, {
    ingressClassName: 'traefik',
    tls: [],
    rules: [
      {
        host: 'k3x9a2bq.portal.example.com',
        http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name: 'portal', port: {number: 8080}}}}]},
      },
      {
        host: 'apply.example.com',
        http: {paths: [{path: '/k3x9a2bq/jobs', pathType: 'Prefix', backend: {service: {name: 'candidate', port: {number: 8080}}}}]},
      },
    ],
  })
})

test('the Ingress terminates TLS for both hosts when a TLS secret is configured', () => {
  const config = aConfig({ingress: {tlsSecretName: 'demo-wildcard'}})

  const ingress = find(renderStack(anInput({config})).objects, 'Ingress')

  assert.deepEqual((ingress.spec as {tls: unknown}).tls, [
    {hosts: ['portal-k3x9a2bq.demo.localhost', 'candidate-k3x9a2bq.demo.localhost'], secretName: 'demo-wildcard'},
  ])
})

test('without a service that has a host, the Ingress is left out instead of rendered invalid', () => {
  const config = aConfig({services: onlyServices({worker: {image: 'worker:1', port: 8080}})})

  const stack = renderStack(anInput({config}))

  assert.equal(
    stack.objects.some((o) => o.kind === 'Ingress'),
    false,
  )
})

test('two services claiming the same host are rejected', () => {
  const config = aConfig({services: onlyServices({a: {image: 'a:1', port: 80, host: 'portal'}, b: {image: 'b:1', port: 80, host: 'portal'}})})

  assert.match(renderError(anInput({config})).message, /"a" and "b" both claim the portal host/)
})

test('a created-by value that looks like YAML stays one string and adds no object or key', () => {
  const plain = renderStack(anInput())
  const createdBy = 'x\nkind: ClusterRole\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: "pwn"}'

  const stack = renderStack(anInput({demo: {createdBy}}))

  assert.equal(stack.objects.length, plain.objects.length)
  assert.ok(all(stack).every((o) => o.kind !== 'ClusterRole' && o.metadata.name !== 'pwn'))
  assert.equal(stack.namespace.metadata.annotations?.[CREATED_BY_ANNOTATION], createdBy)
  assert.deepEqual(Object.keys(stack.namespace.metadata.annotations ?? {}), Object.keys(plain.namespace.metadata.annotations ?? {}))
})

test('a value containing a placeholder is not expanded again', () => {
  const stack = renderStack(anInput({demo: {createdBy: '{{ID}} {{DATABASE_ENV}} {{NOPE}}'}}))

  assert.equal(stack.namespace.metadata.annotations?.[CREATED_BY_ANNOTATION], '{{ID}} {{DATABASE_ENV}} {{NOPE}}')
})

test('quotes, braces and colons in values survive printing and re-parsing unchanged', () => {
  const createdBy = `o'brien "the: {admin}" # not a comment`
  const config = aConfig({services: {api: {image: 'api:1', port: 3000, env: {GREETING: `it's "quoted": {yes}\n- list: item`}}}})

  const stack = renderStack(anInput({config, demo: {createdBy}}))
  const reparsed = loadAll(dump(all(stack)))

  assert.deepEqual(reparsed, [all(stack)])
  const container = podSpecOf(find(stack.objects, 'Deployment', 'api')).containers[0]
  assert.deepEqual(container?.env, [
    {name: 'PORT', value: '3000'},
    {name: 'GREETING', value: `it's "quoted": {yes}\n- list: item`},
  ])
})

test('an unknown placeholder is an error naming the template and the placeholder', () => {
  const templates = [{name: 'extra.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: "{{SERVICE_NAME}}"\n'}]

  const error = renderError(anInput({templates}))

  assert.match(error.message, /extra\.yaml \(document 1\).*unknown placeholder \{\{SERVICE_NAME\}\}/)
})

test('a template placeholder with other characters (Helm style) is an unknown placeholder', () => {
  const templates = [{name: 'helm.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "{{ .Values.name }}"\n'}]

  assert.match(renderError(anInput({templates})).message, /helm\.yaml.*unknown placeholder \{\{\.Values\.name\}\}/)
})

test('a placeholder in a mapping key is rejected', () => {
  const templates = [{name: 'keys.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  "{{ID}}": a\n'}]

  assert.match(renderError(anInput({templates})).message, /keys\.yaml.*key "\{\{ID\}\}"/)
})

test('a structured placeholder inside a longer string is rejected', () => {
  const templates = [{name: 'q.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: "quota {{QUOTA}}"\n'}]

  assert.match(renderError(anInput({templates})).message, /q\.yaml.*\{\{QUOTA\}\} inside a string/)
})

test('the database environment may be used in a Secret only', () => {
  const templates = [{name: 'leak.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata: "{{DATABASE_ENV}}"\n'}]

  assert.match(renderError(anInput({templates})).message, /leak\.yaml.*\{\{DATABASE_ENV\}\} in a ConfigMap/)
})

test('cluster-scoped objects and objects in another namespace are rejected', () => {
  const role = [{name: 'role.yaml', text: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: x\n'}]
  const elsewhere = [{name: 'cm.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n'}]

  assert.match(renderError(anInput({templates: role})).message, /role\.yaml.*ClusterRole/)
  assert.match(renderError(anInput({templates: elsewhere})).message, /cm\.yaml.*namespace "kube-system"/)
})

test('every kind of the one cluster-scoped list is refused in a template, naming the file and the kind', () => {
  for (const kind of CLUSTER_SCOPED_KINDS) {
    const templates = [{name: 'scoped.yaml', text: `apiVersion: example.test/v1\nkind: ${kind}\nmetadata:\n  name: x\n`}]

    assert.match(
      renderError(anInput({templates})).message,
      new RegExp(`scoped\\.yaml.*creates a ${kind}: templates may create only namespaced objects`),
    )
  }
})

test('invalid YAML and documents that are not objects are errors naming the file', () => {
  const broken = [{name: 'broken.yaml', text: 'apiVersion: v1\nkind: [\n'}]
  const scalar = [{name: 'scalar.yaml', text: 'just a string\n'}]
  const nameless = [{name: 'nameless.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n'}]

  assert.match(renderError(anInput({templates: broken})).message, /broken\.yaml is not valid YAML/)
  assert.match(renderError(anInput({templates: scalar})).message, /scalar\.yaml \(document 1\) is not a Kubernetes object/)
  assert.match(renderError(anInput({templates: nameless})).message, /nameless\.yaml.*metadata\.name/)
})

test('two Namespaces or the same object twice are rejected', () => {
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "{{NAMESPACE}}"\n'
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n'

  assert.match(
    renderError(
      anInput({
        templates: [
          {name: 'a.yaml', text: ns},
          {name: 'b.yaml', text: ns},
        ],
      }),
    ).message,
    /2 Namespace/,
  )
  assert.match(renderError(anInput({templates: [{name: 'a.yaml', text: `${cm}---\n${cm}`}]})).message, /ConfigMap "same" twice/)
})

test('own templates without a Namespace get one with our marks; *.service.yaml renders once per service', () => {
  const config = aConfig({services: onlyServices({a: {image: 'a:1', port: 80}, b: {image: 'b:1', port: 81}})})
  const templates = [
    {
      name: 'worker.service.yaml',
      text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "{{SERVICE_NAME}}-settings"\ndata:\n  port: "port {{PORT}} of {{ID}}"\n',
    },
  ]

  const stack = renderStack(anInput({config, templates}))

  assert.equal(stack.namespace.metadata.labels?.[INSTANCE_LABEL], 'k3x9a2bq')
  assert.equal(stack.namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
  assert.deepEqual(
    stack.objects.map((o) => [o.metadata.name, o.data]),
    [
      ['a-settings', {port: 'port 80 of k3x9a2bq'}],
      ['b-settings', {port: 'port 81 of k3x9a2bq'}],
    ],
  )
})

test('our marks win over labels a template sets under the same keys', () => {
  const templates = [
    {
      name: 'cm.yaml',
      text: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    ${INSTANCE_LABEL}: someone-else\n    team: sales\n`,
    },
  ]

  const [object] = renderStack(anInput({templates})).objects

  assert.equal(object?.metadata.labels?.[INSTANCE_LABEL], 'k3x9a2bq')
  assert.equal(object?.metadata.labels?.team, 'sales')
})

test('the loader reads the built-in templates directory sorted by name, and rejects a missing directory', async () => {
  const templates = await loadTemplates(TEMPLATES_DIR)

  assert.deepEqual(
    templates.map((t) => t.name),
    BUILT_IN.map((t) => t.name),
  )
  await assert.rejects(loadTemplates(join(TEMPLATES_DIR, 'nope')), (error) => error instanceof UsageError && /nope/.test(error.message))
})

test("splitPolicyFirst puts policy objects (the renderer's one list) before the rest, keeping the order within each group", () => {
  const objects = [
    {kind: 'Deployment', n: 1},
    {kind: 'ResourceQuota', n: 2},
    {kind: 'Service', n: 3},
    {kind: 'Secret', n: 4},
  ]
  const [policy, rest] = splitPolicyFirst(objects)
  assert.deepEqual(
    policy.map((o) => o.n),
    [2, 4],
  )
  assert.deepEqual(
    rest.map((o) => o.n),
    [1, 3],
  )
})

test('the Supabase service-role key goes into a Secret of its own, read only by services that declare supabaseServiceRole', () => {
  const config = aConfig({
    services: onlyServices({
      'api-gateway': {image: 'registry.example/api:1', port: 3000, supabaseServiceRole: true},
      portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
    }),
  })
  const database: DatabaseAccess = {
    ...aDatabase({DATABASE_URL: SECRET, SUPABASE_ANON_KEY: 'anon-key'}),
    serviceRoleEnv: {SUPABASE_SERVICE_ROLE_KEY: 'service-canary'},
  }
  const objects = all(renderStack(anInput({config, database})))
  const secret = find(objects, 'Secret', 'demo-supabase-service-role')
  assert.deepEqual(secret.stringData, {SUPABASE_SERVICE_ROLE_KEY: 'service-canary'})
  assert.equal(secret.metadata.labels?.[MANAGED_BY_LABEL], 'demo-cli')
  assert.doesNotMatch(JSON.stringify(find(objects, 'Secret', 'demo-database')), /service-canary/)
  const envOf = (name: string) => JSON.stringify(find(objects, 'Deployment', name))
  assert.match(envOf('api-gateway'), /"name":"SUPABASE_SERVICE_ROLE_KEY","valueFrom":\{"secretKeyRef":\{"name":"demo-supabase-service-role"/)
  assert.doesNotMatch(envOf('portal'), /SUPABASE_SERVICE_ROLE_KEY/)
  for (const o of objects.filter((o) => o.kind !== 'Secret')) assert.doesNotMatch(JSON.stringify(o), /service-canary/)
})

test('no service-role Secret when no service declares it, nor when the database has no service-role key', () => {
  const declared = aConfig({services: onlyServices({'api-gateway': {image: 'registry.example/api:1', port: 3000, supabaseServiceRole: true}})})
  const withKey: DatabaseAccess = {...aDatabase(), serviceRoleEnv: {SUPABASE_SERVICE_ROLE_KEY: 'k'}}
  assert.ok(!all(renderStack(anInput({database: withKey}))).some((o) => o.metadata.name === 'demo-supabase-service-role'))
  const stack = all(renderStack(anInput({config: declared})))
  assert.ok(!stack.some((o) => o.metadata.name === 'demo-supabase-service-role'))
  assert.doesNotMatch(JSON.stringify(stack), /SUPABASE_SERVICE_ROLE_KEY/)
})
