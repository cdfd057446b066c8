import {awaitReady, cancelledError} from './await-ready.js'
import {expiryFor, type Demo} from './demo.js'
import {checkDemoType, checkDuration} from './create-options.js'
import {formatDuration, hours} from './duration.js'
import {DemoError, LimitError} from './errors.js'
import {assertValidName, makeId, namespaceFor} from './naming.js'
import type {Checkpoint, Clock, Cluster, DatabaseAccess, Databases, DemoStore, Manifest, NewDemo, Ownership, Random, Sleeper, StepRunner} from './ports.js'
import type {ProjectConfig} from './project-config.js'
import {demoUrls, POLICY_KINDS, renderStack, type RenderedStack, type TemplateFile} from './render-stack.js'
import {rollBack} from './roll-back.js'

export interface CreateRequest {
  /** A demo type of the project config; undefined = the first one configured. */
  type: string | undefined
  /** "2h", "90m" ...; undefined = lifetime.defaultHours. */
  duration: string | undefined
  name: string | undefined
  actor: string
  autoCleanup: boolean
  /** Wait until every Deployment is Available (false = return right after apply, row stays `creating`). */
  wait: boolean
  waitTimeoutMs: number
  /** Leave what was created in place on failure, for debugging (the row still says `failed`). */
  keepOnFailure: boolean
}

export interface CreateDeps {
  config: ProjectConfig
  templates: TemplateFile[]
  store: DemoStore
  cluster: Cluster
  databases: Databases
  clock: Clock
  random: Random
  sleeper: Sleeper
  steps: StepRunner
  checkpoint: Checkpoint
  /** Aborts on Ctrl-C / SIGTERM: the step in flight ends, then the same rollback as on failure. */
  signal: AbortSignal
}

export interface CreatePlan {
  demo: NewDemo
  stack: RenderedStack
}

/** The objects of each create step, in the order they are applied. */
export function stepObjects(stack: RenderedStack): {policy: Manifest[]; secrets: Manifest[]; services: Manifest[]; ingress: Manifest[]} {
  // The renderer's one list of policy kinds; its Secret and ConfigMap get a step of their own, after the database.
  const secretKinds = new Set(['Secret', 'ConfigMap'])
  const policyKinds = new Set(POLICY_KINDS.filter((kind) => !secretKinds.has(kind)))
  return {
    policy: stack.objects.filter((o) => policyKinds.has(o.kind)),
    secrets: stack.objects.filter((o) => secretKinds.has(o.kind)),
    services: stack.objects.filter((o) => !policyKinds.has(o.kind) && !secretKinds.has(o.kind) && o.kind !== 'Ingress'),
    ingress: stack.objects.filter((o) => o.kind === 'Ingress'),
  }
}

function resolveType(config: ProjectConfig, type: string | undefined): string {
  return checkDemoType(config.types, type ?? Object.keys(config.types)[0] ?? '')
}

function resolveLifetimeMs(config: ProjectConfig, duration: string | undefined): number {
  return duration === undefined ? hours(config.lifetime.defaultHours) : checkDuration(config.lifetime, duration, 'flag')
}

/** Checks type, duration and name without touching anything: the CLI calls it before it opens the state store. */
export function validateCreateRequest(config: ProjectConfig, request: Pick<CreateRequest, 'type' | 'duration' | 'name'>): void {
  resolveType(config, request.type)
  resolveLifetimeMs(config, request.duration)
  if (request.name !== undefined) assertValidName(request.name)
}

/** The database access used only to validate templates before anything is written (no secrets yet). */
function previewAccess(databases: Databases): DatabaseAccess {
  return {mode: databases.mode, schema: null, secretEnv: {}, supabaseProjectId: null, supabaseUrl: null, supabaseAnonKey: null}
}

/**
 * Decides everything about a new demo without touching the world: validates type, duration and name, picks
 * an id, and renders the stack (so a broken template fails before a row or namespace exists).
 * `demo create --dry-run` prints this plan.
 */
export function planDemo(deps: Pick<CreateDeps, 'config' | 'templates' | 'clock' | 'random' | 'databases'> & {contextName: string | null}, request: CreateRequest): CreatePlan {
  const {config} = deps
  const demoType = resolveType(config, request.type)
  const ttlMs = resolveLifetimeMs(config, request.duration)
  if (request.name !== undefined) assertValidName(request.name)
  const id = makeId(deps.random.bytes(16))
  const createdAt = deps.clock.now()
  const demo: NewDemo = {
    id,
    name: request.name ?? null,
    namespace: namespaceFor(id, config.namespacePrefix),
    demoType,
    status: 'creating',
    ...demoUrls(config, id),
    databaseMode: deps.databases.mode,
    databaseSchema: null,
    supabaseProjectId: null,
    supabaseUrl: null,
    supabaseAnonKey: null,
    kubeContext: deps.contextName,
    createdBy: request.actor,
    autoCleanup: request.autoCleanup,
    createdAt,
    expiresAt: expiryFor(createdAt, ttlMs),
    metadata: {},
  }
  return {demo, stack: render(deps, demo, previewAccess(deps.databases))}
}

function render(deps: Pick<CreateDeps, 'config' | 'templates'>, demo: NewDemo | Demo, database: DatabaseAccess): RenderedStack {
  return renderStack({config: deps.config, templates: deps.templates, database, demo})
}

function limitError(refused: 'owner' | 'global', live: Demo[], deps: Pick<CreateDeps, 'config' | 'clock'>, actor: string): LimitError {
  const now = deps.clock.now().getTime()
  const lines = live.map((d) => `${d.id} (${d.demoType}, ${d.status}, ${d.createdBy}, expires in ${formatDuration(d.expiresAt.getTime() - now)})`)
  const cap = refused === 'owner' ? `${actor} already has ${live.length} live demos (limit ${deps.config.limits.perOwner})` : `the team has ${deps.config.limits.global} live demos (the global limit)`
  return new LimitError(`Cannot create a demo: ${cap}: ${lines.join('; ')}.`, {
    hint: `Destroy one with \`demo destroy ${live[0]?.id ?? '<id>'}\` (or wait for it to expire), or raise limits.${refused === 'owner' ? 'perOwner' : 'global'} in demo.config.yaml.`,
  })
}

/** Inserts the row; a reached cap fails the step (LimitError), so the progress shows the step failed. */
async function recordDemo(deps: CreateDeps, demo: NewDemo, actor: string): Promise<Demo> {
  const ttlHours = (demo.expiresAt.getTime() - demo.createdAt.getTime()) / 3_600_000
  const result = await deps.store.insert(demo, deps.config.limits, {demoId: demo.id, type: 'created', at: demo.createdAt, actor, data: {type: demo.demoType, ttlHours}})
  if ('refused' in result) throw limitError(result.refused, result.live, deps, actor)
  return result.inserted
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw cancelledError(signal)
}

/** Runs a timed step, records its duration in seconds, stops first if cancelled, then passes the named checkpoint. */
async function step<T>(deps: CreateDeps, timings: Record<string, number>, names: {title: string; key: string}, run: () => Promise<T>): Promise<T> {
  throwIfCancelled(deps.signal)
  const started = deps.clock.now().getTime()
  const result = await deps.steps.run(names.title, run)
  timings[names.key] = Math.round(deps.clock.now().getTime() - started) / 1000
  deps.checkpoint(names.key)
  return result
}

export interface CreateResult {
  demo: Demo
  /** Whether the demo was waited for (false with --no-wait: the row stays `creating`). */
  waited: boolean
}

/**
 * Creates a demo: row `creating` → namespace and policies → database → secrets → services (server-side
 * apply, in parallel) → ingress → wait until every Deployment is Available → row `ready` with phase timings.
 * Every step is idempotent. On failure or cancel the namespace and database are removed (unless
 * keepOnFailure) and the row says `failed` with the reason; a crash leaves a `creating` row and labelled
 * objects that `demo destroy` (or gc) finishes.
 */
export async function createDemo(deps: CreateDeps, request: CreateRequest): Promise<CreateResult> {
  const plan = planDemo({...deps, contextName: deps.cluster.contextName()}, request)
  const timings: Record<string, number> = {}
  let demo = await step(deps, timings, {title: 'Record the demo', key: 'record'}, () => recordDemo(deps, plan.demo, request.actor))
  try {
    demo = await provision(deps, demo, timings, request)
    return {demo, waited: request.wait}
  } catch (error) {
    throw await rollBack(deps, {demo, error, timings, keep: request.keepOnFailure, actor: request.actor})
  }
}

async function provision(deps: CreateDeps, inserted: Demo, timings: Record<string, number>, request: CreateRequest): Promise<Demo> {
  let demo = inserted
  const owner: Ownership = {demoId: demo.id, namespace: demo.namespace}
  const preview = render(deps, demo, previewAccess(deps.databases))
  await step(deps, timings, {title: `Namespace ${demo.namespace} and policies`, key: 'namespace'}, async () => {
    await deps.cluster.ensureNamespace(preview.namespace, owner)
    await deps.cluster.apply(stepObjects(preview).policy, owner)
  })
  const access = await step(deps, timings, {title: `Database (${deps.databases.mode})`, key: 'database'}, () => deps.databases.provision(demo))
  demo = await recordDatabase(deps, demo, access)
  const objects = stepObjects(render(deps, demo, access))
  await step(deps, timings, {title: 'Secrets', key: 'secrets'}, () => deps.cluster.apply(objects.secrets, owner))
  await step(deps, timings, {title: `Services (${preview.deploymentNames.length} deployments)`, key: 'services'}, () => deps.cluster.apply(objects.services, owner))
  await step(deps, timings, {title: 'Ingress', key: 'ingress'}, () => deps.cluster.apply(objects.ingress, owner))
  if (!request.wait) return saveTimings(deps, demo, timings)
  await step(deps, timings, {title: 'Wait until every deployment is Available', key: 'wait'}, () =>
    awaitReady(deps, {namespace: demo.namespace, deploymentNames: preview.deploymentNames, timeoutMs: request.waitTimeoutMs}),
  )
  return markReady(deps, demo, timings, request.actor)
}

async function recordDatabase(deps: CreateDeps, demo: Demo, access: DatabaseAccess): Promise<Demo> {
  if (access.schema === null && access.supabaseProjectId === null) return demo
  return deps.store.update(demo.id, demo.version, {
    databaseSchema: access.schema,
    supabaseProjectId: access.supabaseProjectId,
    supabaseUrl: access.supabaseUrl,
    supabaseAnonKey: access.supabaseAnonKey,
  })
}

async function saveTimings(deps: CreateDeps, demo: Demo, timings: Record<string, number>): Promise<Demo> {
  const latest = (await deps.store.get(demo.id)) ?? demo
  return deps.store.update(demo.id, latest.version, {phaseTimings: {...timings}})
}

async function markReady(deps: CreateDeps, demo: Demo, timings: Record<string, number>, actor: string): Promise<Demo> {
  const now = deps.clock.now()
  const total = (now.getTime() - demo.createdAt.getTime()) / 1000
  const phaseTimings = {...timings, total: Math.round(total * 1000) / 1000}
  const latest = (await deps.store.get(demo.id)) ?? demo
  try {
    return await deps.store.update(demo.id, latest.version, {status: 'ready', readyAt: now, phaseTimings}, {demoId: demo.id, type: 'ready', at: now, actor, data: {seconds: phaseTimings.total}})
  } catch (error) {
    if (error instanceof DemoError) throw error
    throw new DemoError(`Demo "${demo.id}" is up, but recording it as ready failed.`, {cause: error})
  }
}
