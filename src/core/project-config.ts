import {z} from 'zod'
import {closestMatch} from './edit-distance.js'
import {isValidId} from './naming.js'

/** "unknown key "servics"; did you mean "services"?", or the known keys when none is close. */
export function describeUnknownKeys(keys: readonly string[], known: readonly string[]): string {
  const guesses = keys.map((key) => closestMatch(key, known))
  const named = keys.map((key, i) => (guesses[i] ? `"${key}" (did you mean "${guesses[i]}"?)` : `"${key}"`))
  if (keys.length === 1 && guesses[0]) return `unknown key "${keys[0]}"; did you mean "${guesses[0]}"?`
  const list = `unknown key${keys.length > 1 ? 's' : ''} ${named.join(', ')}`
  return guesses.every(Boolean) ? list : `${list}; known keys: ${known.join(', ')}`
}

/** z.strictObject whose unknown-key error suggests the key meant (strictObject reports them at every level). */
function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape)
  return z.strictObject(shape, {error: (issue) => (issue.code === 'unrecognized_keys' ? describeUnknownKeys(issue.keys, known) : undefined)})
}

const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'a Kubernetes quantity such as "500m", "2" or "4Gi"')
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label: lowercase letters, digits and "-"')
  .max(63)
const image = z.string().regex(/^[^\s"'{}]+$/, 'an image reference without spaces or quotes')
const urlPattern = z
  .string()
  .regex(/^https?:\/\/[^\s]+$/, 'an http(s) URL')
  .regex(/\{id\}/, 'a URL containing the placeholder {id}')

const serviceFields = {
  image,
  port: z.number().int().min(1).max(65535),
  replicas: z.number().int().min(0).max(10),
  cpu: quantity,
  memory: quantity,
  cpuLimit: quantity,
  memoryLimit: quantity,
  healthPath: z.string().regex(/^\/[^\s]*$/, 'a path starting with "/"'),
  /** Which Ingress host routes to this service, if any. */
  host: z.enum(['portal', 'candidate']),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'), z.string()),
  /**
   * Whether the service gets SUPABASE_SERVICE_ROLE_KEY (from Secret `demo-supabase-service-role`) when the demo's
   * database is on Supabase. The key bypasses row-level security: only services that need it declare it.
   */
  supabaseServiceRole: z.boolean(),
}

/** One service of the stack, complete: what the renderer gets. */
const service = strictObject({
  ...serviceFields,
  replicas: serviceFields.replicas.default(1),
  cpu: serviceFields.cpu.default('100m'),
  memory: serviceFields.memory.default('128Mi'),
  cpuLimit: serviceFields.cpuLimit.default('500m'),
  memoryLimit: serviceFields.memoryLimit.default('256Mi'),
  healthPath: serviceFields.healthPath.default('/health'),
  host: serviceFields.host.optional(),
  env: serviceFields.env.default({}),
  supabaseServiceRole: serviceFields.supabaseServiceRole.default(false),
})

/** One entry of `services:` in demo.config.yaml: every field optional, laid over the built-in service of that name if there is one. */
const serviceEntry = strictObject({
  ...z.object(serviceFields).partial().shape,
  /** false removes the service (a built-in one, or your own without deleting its lines). */
  enabled: z.boolean().optional(),
})

type ServiceEntry = z.infer<typeof serviceEntry>

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')

const demoType = strictObject({
  description: z.string().default(''),
  /** The generated seed of seeds/ (seeds/<seed>.yaml) to load for this type. */
  seed: dnsLabel.optional(),
  /** A SQL file of the project (relative to demo.config.yaml) to load instead. */
  seedFile: z
    .string()
    .regex(/\.sql$/, 'a path to a .sql file')
    .optional(),
  /** A command to run instead, with the demo's DATABASE_URL in its environment. */
  seedCommand: strictObject({
    run: z.array(z.string().min(1)).min(1),
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
  }).optional(),
}).refine((t) => [t.seed, t.seedFile, t.seedCommand].filter((s) => s !== undefined).length <= 1, 'give at most one of seed, seedFile and seedCommand')

type LifetimeKey = 'defaultHours' | 'minHours' | 'maxHours' | 'maxLifetimeHours' | 'minExtendHours' | 'maxExtendHours'

/** Each chain must be in non-decreasing order. */
const LIFETIME_ORDER: readonly (readonly LifetimeKey[])[] = [
  ['minHours', 'defaultHours', 'maxHours'],
  ['maxHours', 'maxLifetimeHours'],
  ['minExtendHours', 'maxExtendHours'],
]

const lifetime = strictObject({
  defaultHours: z.number().min(0.25).default(2),
  minHours: z.number().min(0.25).default(1),
  maxHours: z.number().min(0.25).default(8),
  maxLifetimeHours: z.number().min(1).default(24),
  maxExtensions: z.number().int().min(0).default(3),
  minExtendHours: z.number().min(0.25).default(1),
  maxExtendHours: z.number().min(0.25).default(4),
}).superRefine((l, ctx) => {
  for (const chain of LIFETIME_ORDER) {
    if (chain.every((key, i) => i === 0 || l[chain[i - 1]!] <= l[key])) continue
    ctx.addIssue({code: 'custom', input: l, message: `${chain.map((key) => `${key} (${l[key]})`).join(' <= ')} must hold`})
  }
})

/** The built-in stack's services, in the order they are rendered; demo.config.yaml's `services` merge over them. */
export const DEFAULT_SERVICES: Readonly<Record<string, Readonly<ServiceEntry>>> = {
  'api-gateway': {image: 'ghcr.io/splits-network/api-gateway:latest', port: 3000},
  'identity-service': {image: 'ghcr.io/splits-network/identity-service:latest', port: 3001},
  'ats-service': {image: 'ghcr.io/splits-network/ats-service:latest', port: 3002},
  'network-service': {image: 'ghcr.io/splits-network/network-service:latest', port: 3003},
  portal: {image: 'ghcr.io/splits-network/portal:latest', port: 8080, host: 'portal'},
  candidate: {image: 'ghcr.io/splits-network/candidate:latest', port: 8080, host: 'candidate'},
}

function checkNewService(name: string, fields: Omit<ServiceEntry, 'enabled'>, ctx: z.core.$RefinementCtx): void {
  const missing = (['image', 'port'] as const).filter((key) => fields[key] === undefined)
  if (missing.length === 0) return
  const guess = closestMatch(name, Object.keys(DEFAULT_SERVICES))
  const meant = guess ? `; did you mean "${guess}"?` : ''
  ctx.addIssue({
    code: 'custom',
    path: [name],
    input: fields,
    message: `"${name}" is not a built-in service, so it needs image and port; missing: ${missing.join(', ')}${meant}`,
  })
}

/**
 * The services of the stack: the built-in ones, each with the fields an entry of the same name gives
 * (field by field, so `portal: {replicas: 2}` keeps portal's image and port), then new names in file order.
 * `enabled: false` removes a service; a name that is not built in must give image and port.
 */
function mergeServices(entries: Record<string, ServiceEntry>, ctx: z.core.$RefinementCtx): Record<string, Omit<ServiceEntry, 'enabled'>> {
  const merged: Record<string, Omit<ServiceEntry, 'enabled'>> = {}
  for (const [name, builtIn] of Object.entries(DEFAULT_SERVICES)) merged[name] = {...builtIn}
  for (const [name, {enabled, ...fields}] of Object.entries(entries)) {
    const builtIn = Object.hasOwn(DEFAULT_SERVICES, name) ? DEFAULT_SERVICES[name] : undefined
    if (!builtIn) checkNewService(name, fields, ctx)
    if (enabled === false) delete merged[name]
    else merged[name] = {...builtIn, ...fields}
  }
  return merged
}

/** Namespaces every cluster has; no demo's namespace may ever be one of them. */
export const BUILT_IN_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease']

const PREFIX_RULE = 'a prefix of lowercase letters, digits and "-", ending in "-" (such as "demo-"), not starting with "kube-"'

/** Why a namespace prefix is refused although it is a valid label start, or undefined when it is fine. */
export function namespacePrefixProblem(prefix: string): string | undefined {
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces
  if (prefix.startsWith('kube-')) return 'Kubernetes reserves "kube-" for its own namespaces'
  if (prefix === 'default-') return 'it reads as the built-in namespace "default"'
  const hit = BUILT_IN_NAMESPACES.find((ns) => ns.startsWith(prefix) && isValidId(ns.slice(prefix.length)))
  return hit ? `with the id "${hit.slice(prefix.length)}" the namespace would be the built-in "${hit}"` : undefined
}

const namespacePrefix = z
  .string()
  .regex(/^[a-z]([-a-z0-9]*-)?$/, PREFIX_RULE)
  .max(20)
  .superRefine((prefix, ctx) => {
    const problem = namespacePrefixProblem(prefix)
    if (problem) ctx.addIssue({code: 'custom', input: prefix, message: `"${prefix}" is refused: ${problem}; use ${PREFIX_RULE}`})
  })

export const projectConfigSchema = strictObject({
  /** Prefix of every namespace; the id follows. */
  namespacePrefix: namespacePrefix.default('demo-'),
  /** A directory of your own templates, relative to this file; the built-in stack when absent. */
  templatesDir: z.string().optional(),
  /** Merged over DEFAULT_SERVICES by name (see mergeServices). */
  services: z
    .record(dnsLabel, serviceEntry)
    .prefault({})
    .transform(mergeServices)
    .pipe(z.record(dnsLabel, service).refine((s) => Object.keys(s).length > 0, 'every service is disabled; keep at least one')),
  types: z
    .record(dnsLabel, demoType)
    .refine((t) => Object.keys(t).length > 0, 'no demo type is given; give at least one')
    .prefault({
      'recruiting-agency': {description: 'A staffing agency with clients, jobs, candidates and recruiters', seed: 'recruiting-agency'},
      enterprise: {description: 'A large company hiring across departments', seed: 'enterprise'},
      startup: {description: 'A small startup making its first hires', seed: 'startup'},
    }),
  ingress: strictObject({
    className: z.string().default('nginx'),
    /** Namespace of the ingress controller, allowed in by the NetworkPolicy. */
    controllerNamespace: dnsLabel.default('ingress-nginx'),
    portalUrl: urlPattern.default('https://portal-{id}.demo.localhost'),
    candidateUrl: urlPattern.default('https://candidate-{id}.demo.localhost'),
    tlsSecretName: dnsLabel.optional(),
  }).prefault({}),
  podSecurity: strictObject({
    level: z.enum(['restricted', 'baseline']).default('restricted'),
    /** Required when level is baseline: why the stack cannot run restricted. */
    reason: z.string().optional(),
  })
    .refine(
      (p) => p.level === 'restricted' || (p.reason ?? '').trim() !== '',
      'level "baseline" needs a reason: why the stack cannot run under "restricted"',
    )
    .prefault({}),
  quota: z.record(z.string(), quantity).default({
    'requests.cpu': '2',
    'requests.memory': '4Gi',
    'limits.cpu': '4',
    'limits.memory': '8Gi',
    pods: '20',
    services: '10',
    persistentvolumeclaims: '0',
  }),
  lifetime: lifetime.prefault({}),
  limits: strictObject({
    perOwner: z.number().int().min(1).default(3),
    global: z.number().int().min(1).default(50),
    /** The most the demos of one calendar month (UTC) may cost, in cost.currency; create refuses a demo that would exceed it. */
    monthlyBudget: z.number().positive().optional(),
  }).prefault({}),
  /**
   * What a demo costs per hour, for `demo stats` and create's estimate: the quota's requests.cpu and
   * requests.memory at these prices, or a fixed price per hour for a type. The defaults are examples, not truth.
   */
  cost: strictObject({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'a three-letter currency code such as "USD"')
      .default('USD'),
    cpuHour: z.number().min(0).default(0.04),
    gibHour: z.number().min(0).default(0.005),
    typeHour: z.record(dnsLabel, z.number().min(0)).default({}),
  }).prefault({}),
  /**
   * Identities allowed to extend and destroy anyone's demo: for a demo that records who the cluster authenticated
   * its creator as, matched against the caller's authenticated identity (`kubectl auth whoami`); for an older one,
   * against the declared owner (created_by).
   */
  admins: z.array(z.string().min(1)).default([]),
  /** Authenticated identities (`kubectl auth whoami`) that may act for others: the CI's or gc's ServiceAccount. */
  trustedIdentities: z.array(z.string().min(1)).default([]),
  database: strictObject({
    mode: z.enum(['none', 'shared-schema', 'supabase-project']).default('none'),
    /** The environment variable holding the shared Postgres URL (shared-schema); never the URL itself. */
    urlEnv: envName.default('DEMO_SHARED_DATABASE_URL'),
    /** The app's SQL migrations, a directory of the project (relative to this file); the built-in ones when absent. */
    migrationsDir: z.string().optional(),
    /** Most sessions each demo's database role may hold at once. */
    connectionLimit: z.number().int().min(1).max(1000).default(10),
  }).prefault({}),
  wait: strictObject({
    timeoutSeconds: z.number().int().min(10).max(3600).default(300),
  }).prefault({}),
  gc: strictObject({
    /** A run that plans more deletions than this deletes none (the brake) unless --max-deletions allows it. */
    maxDeletions: z.number().int().min(0).default(20),
    /** How long gc leaves a young orphan namespace alone, and gives a `creating` demo beyond wait.timeoutSeconds. */
    graceMinutes: z.number().min(0).max(1440).default(10),
    /** The NAME of the environment variable holding the alert webhook URL (the URL is a secret: never in this file). */
    alertWebhook: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'the name of an environment variable holding the webhook URL (such as "SLACK_GC_WEBHOOK"), not the URL itself')
      .optional(),
  }).prefault({}),
  /** Supabase (issue 11): the organization and region of per-demo projects, and the shared project of shared-schema. */
  supabase: strictObject({
    /** Organization slug for `supabase-project` (env DEMO_SUPABASE_ORG overrides). */
    organization: z
      .string()
      .regex(/^[\w-]+$/, 'an organization slug')
      .optional(),
    /** Region code of new projects, e.g. "eu-west-1" (env DEMO_SUPABASE_REGION overrides). */
    region: z
      .string()
      .regex(/^[a-z]{2}-[a-z]+-\d$/, 'a region code such as "eu-west-1"')
      .default('us-east-1'),
    /** Sent as the deprecated `plan` of POST /v1/projects (the API now takes the organization's plan). */
    plan: z.enum(['free', 'pro']).optional(),
    /** How long a new project may take to become ACTIVE_HEALTHY. */
    healthyTimeoutSeconds: z.number().int().min(30).max(3600).default(300),
    /** The organization's limit of active projects (default: 2 on the free plan, none on paid plans). */
    projectLimit: z.number().int().min(1).optional(),
    /** shared-schema on Supabase: the shared project whose Data API exposes each demo's schema. */
    projectRef: z
      .string()
      .regex(/^[a-z]{20}$/, 'a project ref: 20 lowercase letters')
      .optional(),
  }).prefault({}),
})

export type ProjectConfig = z.infer<typeof projectConfigSchema>
export type ServiceConfig = ProjectConfig['services'][string]

export function defaultProjectConfig(): ProjectConfig {
  return projectConfigSchema.parse({})
}
