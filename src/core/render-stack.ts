import {loadAll} from 'js-yaml'
import {UsageError} from './errors.js'
import {
  CREATED_BY_ANNOTATION,
  DEMO_TYPE_LABEL,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_ANNOTATION,
  INSTANCE_LABEL,
  JANITOR_EXPIRES_ANNOTATION,
  janitorTimestamp,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  POD_SECURITY_MODES,
  POD_SECURITY_REASON_ANNOTATION,
  podSecurityLabel,
  podSecurityVersionLabel,
} from './labels.js'
import type {DatabaseAccess, Manifest} from './ports.js'
import type {ProjectConfig, ServiceConfig} from './project-config.js'

/** One template file: its name (for messages and the per-service convention) and its YAML text (multi-document allowed). */
export interface TemplateFile {
  name: string
  text: string
  /** The YAML documents of `text`, when the loader has them already (remembered: parse-cache.ts); parsed from `text` otherwise. */
  documents?: unknown[] | undefined
}

export interface RenderInput {
  config: ProjectConfig
  /** autoCleanup false (--no-auto-cleanup): no janitor/expires on the namespace. */
  demo: {id: string; namespace: string; demoType: string; createdBy: string; expiresAt: Date; autoCleanup: boolean}
  /** secretEnv goes into the demo's Secret (stringData) and nowhere else. */
  database: DatabaseAccess
  templates: TemplateFile[]
}

export interface RenderedStack {
  namespace: Manifest
  /** Every other object, namespaced into the demo's namespace, policy objects first. */
  objects: Manifest[]
  deploymentNames: string[]
}

/**
 * A placeholder's value. Strings and numbers may also appear inside a longer string; structured values
 * (maps, lists) only as the whole scalar, where they replace it. `secretOnly` values may be used in a Secret only.
 */
interface Value {
  value: string | number | Record<string, unknown> | unknown[]
  secretOnly?: boolean
}
type Scope = ReadonlyMap<string, Value>

interface TemplateDocument {
  file: string
  index: number
  body: unknown
}

const PLACEHOLDER = /\{\{(.*?)\}\}/g
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Z][A-Z0-9_]*)\s*\}\}$/
const PLACEHOLDER_NAME = /^[A-Z][A-Z0-9_]*$/
const DATABASE_SECRET_KEYS = {id: 'DEMO_ID', type: 'DEMO_TYPE'} as const

/** The Secret holding the Supabase service-role key, read only by services with `supabaseServiceRole: true`. */
export const SERVICE_ROLE_SECRET = 'demo-supabase-service-role'

/** Keys of the demo's Secret that hold no secret (the demo's id and type): a dry run shows them. */
export const PUBLIC_SECRET_KEYS: readonly string[] = Object.values(DATABASE_SECRET_KEYS)

/**
 * Kinds that are cluster-scoped: a template may not create them (only the demo's own Namespace). This list is
 * the rule for templates: it refuses them before anything is written, in a dry run too. The Kubernetes adapter
 * asks API discovery as well, and so also refuses cluster-scoped kinds this list cannot know (a CRD's, a newer
 * release's); it keeps no list of its own, and the fake cluster uses this one.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService',
  'CertificateSigningRequest',
  'ClusterRole',
  'ClusterRoleBinding',
  'CSIDriver',
  'CSINode',
  'CustomResourceDefinition',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'Node',
  'PersistentVolume',
  'PriorityClass',
  'RuntimeClass',
  'StorageClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'VolumeAttachment',
])

/**
 * Policy objects, applied first and in this order: a quota or LimitRange must exist before the pods it governs
 * are admitted. The one rule: the renderer sorts by it, create's steps group by it (stepObjects), and every
 * apply (the Kubernetes adapter and its fake) splits by it with splitPolicyFirst.
 */
export const POLICY_KINDS: readonly string[] = [
  'ResourceQuota',
  'LimitRange',
  'NetworkPolicy',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'Secret',
  'ConfigMap',
]

/** The objects of one apply as two groups to apply one after the other: policy objects first, then the rest. */
export function splitPolicyFirst<T extends {kind: string}>(objects: readonly T[]): [T[], T[]] {
  const isPolicy = (o: T) => POLICY_KINDS.includes(o.kind)
  return [objects.filter(isPolicy), objects.filter((o) => !isPolicy(o))]
}

/** The portal and candidate URLs of a demo: the config's URL patterns with `{id}` replaced. */
export function demoUrls(config: ProjectConfig, id: string): {portalUrl: string; candidateUrl: string} {
  return {portalUrl: config.ingress.portalUrl.replaceAll('{id}', id), candidateUrl: config.ingress.candidateUrl.replaceAll('{id}', id)}
}

/**
 * Renders the stack: parses every template to objects first and only then replaces placeholders inside
 * string values, so no value can add keys, documents or objects. Stamps our labels and annotations on every
 * object. Throws UsageError naming the template and the reason when a template is invalid.
 */
export function renderStack(input: RenderInput): RenderedStack {
  assertPodSecurity(input.config)
  const global = globalScope(input)
  const rendered: Manifest[] = []
  for (const file of input.templates) {
    const documents = parseTemplate(file)
    const scopes = isPerServiceTemplate(file.name)
      ? Object.entries(input.config.services).map(([name, service]) => serviceScope(global, name, service, input.database))
      : [global]
    for (const scope of scopes) {
      for (const document of documents) rendered.push(toManifest(document, substitute(document, document.body, scope), scope, input))
    }
  }
  const serviceRole = serviceRoleSecret(input, global)
  return assemble([...rendered.filter((m) => !isEmptyIngress(m)), ...(serviceRole ? [serviceRole] : [])], input)
}

/** Whether the demo has a Supabase service-role key and a service that declares it needs it. */
function needsServiceRole(input: RenderInput): boolean {
  return input.database.serviceRoleEnv !== undefined && Object.values(input.config.services).some((s) => s.supabaseServiceRole)
}

/**
 * Secret `demo-supabase-service-role` (SUPABASE_SERVICE_ROLE_KEY ...), built in rather than templated: the key must
 * never land in the Secret every pod reads, whatever the project's templates do. Only when a service needs it.
 */
function serviceRoleSecret(input: RenderInput, scope: Scope): Manifest | undefined {
  if (!needsServiceRole(input)) return undefined
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: SERVICE_ROLE_SECRET},
    type: 'Opaque',
    stringData: {...input.database.serviceRoleEnv},
  }
  return toManifest({file: '(built in) Supabase service role', index: 1, body}, body, scope, input)
}

/** SUPABASE_SERVICE_ROLE_KEY from the service-role Secret, for a service that declares `supabaseServiceRole: true`. */
function serviceRoleEnv(service: ServiceConfig, database: DatabaseAccess): unknown[] {
  if (!service.supabaseServiceRole || !database.serviceRoleEnv) return []
  return Object.keys(database.serviceRoleEnv).map((key) => ({name: key, valueFrom: {secretKeyRef: {name: SERVICE_ROLE_SECRET, key}}}))
}

/** `service.yaml` and `*.service.yaml` are rendered once per configured service, with the SERVICE_* placeholders. */
export function isPerServiceTemplate(name: string): boolean {
  const base = name.split('/').pop() ?? name
  return base === 'service.yaml' || base.endsWith('.service.yaml')
}

function assertPodSecurity(config: ProjectConfig): void {
  if (config.podSecurity.level === 'baseline' && (config.podSecurity.reason ?? '').trim() === '') {
    throw new UsageError('podSecurity.level "baseline" needs podSecurity.reason.', {
      hint: 'Say in demo.config.yaml why the stack cannot run under "restricted".',
    })
  }
}

function globalScope({config, demo, database}: RenderInput): Scope {
  const urls = demoUrls(config, demo.id)
  const tlsSecretName = config.ingress.tlsSecretName
  const entries: [string, Value][] = [
    ['ID', {value: demo.id}],
    ['NAMESPACE', {value: demo.namespace}],
    ['DEMO_TYPE', {value: demo.demoType}],
    ['CREATED_BY', {value: demo.createdBy}],
    ['EXPIRES_AT', {value: demo.expiresAt.toISOString()}],
    ['JANITOR_EXPIRES', {value: janitorTimestamp(demo.expiresAt)}],
    ['PORTAL_URL', {value: urls.portalUrl}],
    ['CANDIDATE_URL', {value: urls.candidateUrl}],
    ['PORTAL_HOST', {value: new URL(urls.portalUrl).hostname}],
    ['CANDIDATE_HOST', {value: new URL(urls.candidateUrl).hostname}],
    ['INGRESS_CLASS', {value: config.ingress.className}],
    ['INGRESS_CONTROLLER_NAMESPACE', {value: config.ingress.controllerNamespace}],
    ['POD_SECURITY_LEVEL', {value: config.podSecurity.level}],
    ['QUOTA', {value: {...config.quota}}],
    ['INGRESS_RULES', {value: ingressRules(config, urls)}],
    ['INGRESS_TLS', {value: tlsSecretName ? [{hosts: ingressHosts(urls), secretName: tlsSecretName}] : []}],
    [
      'DATABASE_ENV',
      {value: {...database.secretEnv, [DATABASE_SECRET_KEYS.id]: demo.id, [DATABASE_SECRET_KEYS.type]: demo.demoType}, secretOnly: true},
    ],
  ]
  if (tlsSecretName) entries.push(['TLS_SECRET_NAME', {value: tlsSecretName}])
  return new Map(entries)
}

function serviceScope(global: Scope, name: string, service: ServiceConfig, database: DatabaseAccess): Scope {
  const scope = new Map(global)
  const entries: [string, Value['value']][] = [
    ['SERVICE_NAME', name],
    ['IMAGE', service.image],
    ['PORT', service.port],
    ['REPLICAS', service.replicas],
    ['HEALTH_PATH', service.healthPath],
    ['CPU', service.cpu],
    ['MEMORY', service.memory],
    ['CPU_LIMIT', service.cpuLimit],
    ['MEMORY_LIMIT', service.memoryLimit],
    ['RESOURCES', {requests: {cpu: service.cpu, memory: service.memory}, limits: {cpu: service.cpuLimit, memory: service.memoryLimit}}],
    [
      'SERVICE_ENV',
      [
        {name: 'PORT', value: String(service.port)},
        ...Object.entries(service.env).map(([key, value]) => ({name: key, value})),
        ...serviceRoleEnv(service, database),
      ],
    ],
  ]
  for (const [key, value] of entries) scope.set(key, {value})
  return scope
}

function ingressHosts(urls: {portalUrl: string; candidateUrl: string}): string[] {
  return [...new Set([new URL(urls.portalUrl).hostname, new URL(urls.candidateUrl).hostname])]
}

/** One rule per host; each service with `host: portal|candidate` is the backend of that URL's host and path. */
function ingressRules(config: ProjectConfig, urls: {portalUrl: string; candidateUrl: string}): unknown[] {
  const rules = new Map<string, {path: string; pathType: string; backend: unknown}[]>()
  const routed = new Map<string, string>()
  for (const [name, service] of Object.entries(config.services)) {
    if (!service.host) continue
    const other = routed.get(service.host)
    if (other) {
      throw new UsageError(`Services "${other}" and "${name}" both claim the ${service.host} host.`, {
        hint: 'Give `host:` to one service per URL in demo.config.yaml.',
      })
    }
    routed.set(service.host, name)
    const url = new URL(service.host === 'portal' ? urls.portalUrl : urls.candidateUrl)
    const paths = rules.get(url.hostname) ?? []
    paths.push({path: url.pathname || '/', pathType: 'Prefix', backend: {service: {name, port: {number: service.port}}}})
    rules.set(url.hostname, paths)
  }
  return [...rules].map(([host, paths]) => ({host, http: {paths}}))
}

/** The YAML documents of a template's text (none for an empty one). */
export function parseDocuments(text: string): unknown[] {
  return text.trim() === '' ? [] : loadAll(text)
}

function parseTemplate(file: TemplateFile): TemplateDocument[] {
  let bodies: unknown[]
  try {
    bodies = file.documents ?? parseDocuments(file.text)
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error)
    throw templateError(file.name, `is not valid YAML: ${reason}`, error)
  }
  return bodies.flatMap((body, index) => (body === null || body === undefined ? [] : [{file: file.name, index: index + 1, body}]))
}

const TEMPLATE_HINT = 'Fix the template; templates/README.md lists the placeholders and conventions.'

function templateError(file: string, reason: string, cause?: unknown): UsageError {
  return new UsageError(`Template ${file} ${reason}`, {hint: TEMPLATE_HINT, cause})
}

function where(document: TemplateDocument): string {
  return `${document.file} (document ${document.index})`
}

/** Replaces placeholders in string values only; mapping keys and the structure stay as parsed. */
function substitute(document: TemplateDocument, node: unknown, scope: Scope): unknown {
  if (typeof node === 'string') return substituteString(document, node, scope)
  if (Array.isArray(node)) return node.map((item) => substitute(document, item, scope))
  if (node !== null && typeof node === 'object') {
    const result: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(node)) {
      if (key.includes('{{')) throw templateError(where(document), `has a placeholder in the key "${key}": placeholders are allowed in values only.`)
      result[key] = substitute(document, value, scope)
    }
    return result
  }
  return node
}

function lookup(document: TemplateDocument, name: string, scope: Scope): Value {
  const found = PLACEHOLDER_NAME.test(name) ? scope.get(name) : undefined
  if (!found) {
    const known = [...scope.keys()].sort().join(', ')
    throw templateError(where(document), `uses the unknown placeholder {{${name}}}. Known here: ${known}.`)
  }
  return found
}

function substituteString(document: TemplateDocument, text: string, scope: Scope): unknown {
  const whole = WHOLE_PLACEHOLDER.exec(text)
  if (whole?.[1] !== undefined) {
    const {value} = lookup(document, whole[1], scope)
    return typeof value === 'object' ? structuredClone(value) : value
  }
  // One pass over the template's own text: a value that contains "{{ID}}" is never expanded again.
  return text.replace(PLACEHOLDER, (_match, inner: string) => {
    const name = inner.trim()
    const {value} = lookup(document, name, scope)
    if (typeof value === 'object')
      throw templateError(where(document), `uses the structured placeholder {{${name}}} inside a string; it must be the whole value.`)
    return String(value)
  })
}

function usesSecretOnlyValue(document: TemplateDocument, scope: Scope): string | undefined {
  const text = JSON.stringify(document.body)
  return [...scope].find(([name, value]) => value.secretOnly === true && new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(text))?.[0]
}

function toManifest(document: TemplateDocument, body: unknown, scope: Scope, input: RenderInput): Manifest {
  const manifest = asManifest(document, body)
  const secretOnly = manifest.kind === 'Secret' ? undefined : usesSecretOnlyValue(document, scope)
  if (secretOnly)
    throw templateError(where(document), `uses {{${secretOnly}}} in a ${manifest.kind}; it holds secrets and may be used in a Secret only.`)
  if (CLUSTER_SCOPED_KINDS.has(manifest.kind))
    throw templateError(where(document), `creates a ${manifest.kind}: templates may create only namespaced objects and the demo's Namespace.`)
  assertNamespace(document, manifest, input.demo.namespace)
  stampMarks(manifest, input)
  return withOrderedMetadata(manifest)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function asManifest(document: TemplateDocument, body: unknown): Manifest {
  if (!isRecord(body)) throw templateError(where(document), 'is not a Kubernetes object (a YAML mapping).')
  const {apiVersion, kind, metadata} = body
  const hasName = isRecord(metadata) && typeof metadata.name === 'string' && metadata.name !== ''
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !hasName)
    throw templateError(where(document), 'needs apiVersion, kind and metadata.name.')
  return body as Manifest
}

/** name, namespace, labels, annotations first: `--dry-run` output reads like kubectl's. */
function withOrderedMetadata(manifest: Manifest): Manifest {
  const {name, namespace, labels, annotations, ...rest} = manifest.metadata
  manifest.metadata = {name, ...(namespace === undefined ? {} : {namespace}), labels, annotations, ...rest}
  return manifest
}

function assertNamespace(document: TemplateDocument, manifest: Manifest, namespace: string): void {
  if (manifest.kind === 'Namespace') {
    if (manifest.metadata.name !== namespace)
      throw templateError(where(document), `names the Namespace "${manifest.metadata.name}"; it must be {{NAMESPACE}}.`)
    return
  }
  if (manifest.metadata.namespace !== undefined && manifest.metadata.namespace !== namespace) {
    throw templateError(
      where(document),
      `puts ${manifest.kind} "${manifest.metadata.name}" into namespace "${String(manifest.metadata.namespace)}"; objects go into the demo's namespace only.`,
    )
  }
  manifest.metadata.namespace = namespace
}

function ownLabels(input: RenderInput): Record<string, string> {
  return {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: input.demo.id, [DEMO_TYPE_LABEL]: input.demo.demoType}
}

function ownAnnotations(input: RenderInput): Record<string, string> {
  return {
    [INSTANCE_ANNOTATION]: input.demo.id,
    [CREATED_BY_ANNOTATION]: input.demo.createdBy,
    [EXPIRES_AT_ANNOTATION]: input.demo.expiresAt.toISOString(),
  }
}

/** Our marks win over whatever a template wrote under the same keys; pods get the labels too, so they are findable. */
function stampMarks(manifest: Manifest, input: RenderInput): void {
  const meta = manifest.metadata
  meta.labels = {...asStringMap(meta.labels), ...ownLabels(input)}
  meta.annotations = {...asStringMap(meta.annotations), ...ownAnnotations(input)}
  if (manifest.kind === 'Namespace') stampNamespace(manifest, input)
  const podTemplate = podTemplateOf(manifest)
  if (podTemplate) {
    const podMeta = (podTemplate.metadata ?? {}) as Record<string, unknown>
    podMeta.labels = {...asStringMap(podMeta.labels), ...ownLabels(input)}
    podTemplate.metadata = podMeta
  }
}

/**
 * Only the Namespace carries janitor/expires (and only when auto-cleanup is on): kube-janitor would otherwise delete inner objects at the old
 * time after `demo extend` updated the Namespace. Deleting the Namespace deletes everything in it anyway.
 */
function stampNamespace(manifest: Manifest, input: RenderInput): void {
  const {level, reason} = input.config.podSecurity
  const labels = manifest.metadata.labels ?? {}
  for (const mode of POD_SECURITY_MODES) {
    labels[podSecurityLabel(mode)] = level
    labels[podSecurityVersionLabel(mode)] = 'latest'
  }
  const annotations = manifest.metadata.annotations ?? {}
  // --no-auto-cleanup: the user asked to keep it, so kube-janitor gets no time to delete it at.
  if (input.demo.autoCleanup) annotations[JANITOR_EXPIRES_ANNOTATION] = janitorTimestamp(input.demo.expiresAt)
  if (level === 'baseline' && reason) annotations[POD_SECURITY_REASON_ANNOTATION] = reason
  manifest.metadata.labels = labels
  manifest.metadata.annotations = annotations
}

function asStringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {}
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]))
}

function podTemplateOf(manifest: Manifest): Record<string, unknown> | undefined {
  const spec = manifest.spec as Record<string, unknown> | undefined
  const jobTemplate = spec?.jobTemplate as {spec?: Record<string, unknown>} | undefined
  const template = manifest.kind === 'CronJob' ? jobTemplate?.spec?.template : spec?.template
  return template !== null && typeof template === 'object' ? (template as Record<string, unknown>) : undefined
}

/** An Ingress with no rules and no default backend is invalid: it is dropped (no service has a host). */
function isEmptyIngress(manifest: Manifest): boolean {
  const spec = manifest.spec as {rules?: unknown[]; defaultBackend?: unknown} | undefined
  return manifest.kind === 'Ingress' && (spec?.rules ?? []).length === 0 && spec?.defaultBackend === undefined
}

function kindRank(kind: string): number {
  const index = POLICY_KINDS.indexOf(kind)
  return index === -1 ? POLICY_KINDS.length : index
}

function assemble(rendered: Manifest[], input: RenderInput): RenderedStack {
  const namespaces = rendered.filter((m) => m.kind === 'Namespace')
  if (namespaces.length > 1)
    throw new UsageError(`The templates render ${namespaces.length} Namespace objects; a demo has exactly one.`, {hint: TEMPLATE_HINT})
  const seen = new Set<string>()
  for (const m of rendered) {
    const key = `${m.apiVersion}/${m.kind}/${m.metadata.name}`
    if (seen.has(key)) throw new UsageError(`The templates render ${m.kind} "${m.metadata.name}" twice.`, {hint: TEMPLATE_HINT})
    seen.add(key)
  }
  const namespace = namespaces[0] ?? defaultNamespace(input)
  const objects = rendered.filter((m) => m.kind !== 'Namespace').sort((a, b) => kindRank(a.kind) - kindRank(b.kind))
  const deploymentNames = objects.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name)
  return {namespace, objects, deploymentNames}
}

function defaultNamespace(input: RenderInput): Manifest {
  const namespace: Manifest = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: input.demo.namespace}}
  stampMarks(namespace, input)
  return namespace
}
