import {awaitReady, cancelledError} from './await-ready.js'
import {expiryFor, isSameDatabase, type Demo} from './demo.js'
import {checkDemoType, checkDuration, type OptionSource} from './create-options.js'
import {formatDuration, hours} from './duration.js'
import {DemoError, LimitError, PermissionError} from './errors.js'
import {assertValidName, makeId, namespaceFor} from './naming.js'
import {randomSeedValue} from './seed-value.js'
import type {
  Checkpoint,
  Clock,
  Cluster,
  DatabaseAccess,
  Databases,
  DatabasesFor,
  DemoStore,
  Manifest,
  NewDemo,
  Ownership,
  Random,
  Sleeper,
  StepRunner,
} from './ports.js'
import type {ProjectConfig} from './project-config.js'
import {demoUrls, POLICY_KINDS, renderStack, type RenderedStack, type TemplateFile} from './render-stack.js'
import {rollBack} from './roll-back.js'
import {byCodeUnit} from './order.js'

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
  /** The seed value of the demo's data (--seed-value); undefined = a random one, recorded on the row so it can be reproduced. */
  seedValue?: number | undefined
  /** Which of type and duration came from the user's `demo config` defaults, so an error can say so. */
  fromPreferences?: {type?: boolean; duration?: boolean}
}

export interface CreateDeps {
  config: ProjectConfig
  templates: TemplateFile[]
  store: DemoStore
  cluster: Cluster
  /** The configured mode's adapter: a new demo gets its database from it. */
  databases: Databases
  /** A rollback drops the database with the adapter of the mode the row records. */
  databasesFor: DatabasesFor
  clock: Clock
  random: Random
  sleeper: Sleeper
  steps: StepRunner
  checkpoint: Checkpoint
  /** Aborts on Ctrl-C / SIGTERM: the step in flight ends, then the same rollback as on failure. */
  signal: AbortSignal
  /** Says something the user should know that does not stop the create (stderr). */
  warn?: (message: string) => void
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

function sourceOf(request: Pick<CreateRequest, 'fromPreferences'>, option: 'type' | 'duration'): OptionSource {
  return request.fromPreferences?.[option] ? 'stored-preference' : 'flag'
}

function resolveType(config: ProjectConfig, request: Pick<CreateRequest, 'type' | 'fromPreferences'>): string {
  return checkDemoType(config.types, request.type ?? Object.keys(config.types)[0] ?? '', sourceOf(request, 'type'))
}

function resolveLifetimeMs(config: ProjectConfig, request: Pick<CreateRequest, 'duration' | 'fromPreferences'>): number {
  return request.duration === undefined
    ? hours(config.lifetime.defaultHours)
    : checkDuration(config.lifetime, request.duration, sourceOf(request, 'duration'))
}

/** The demo type and lifetime a request resolves to (UsageError when either is refused). */
export function resolveCreateOptions(
  config: ProjectConfig,
  request: Pick<CreateRequest, 'type' | 'duration' | 'fromPreferences'>,
): {demoType: string; ttlMs: number} {
  return {demoType: resolveType(config, request), ttlMs: resolveLifetimeMs(config, request)}
}

/** Checks type, duration and name without touching anything: the CLI calls it before it opens the state store. */
export function validateCreateRequest(config: ProjectConfig, request: Pick<CreateRequest, 'type' | 'duration' | 'name' | 'fromPreferences'>): void {
  resolveType(config, request)
  resolveLifetimeMs(config, request)
  if (request.name !== undefined) assertValidName(request.name)
}

/** The database access used only to validate templates before anything is written (no secrets yet). */
function previewAccess(demo: NewDemo | Demo): DatabaseAccess {
  return {database: demo.database, secretEnv: {}}
}

/**
 * Decides everything about a new demo without touching the world: validates type, duration and name, picks
 * an id, and renders the stack (so a broken template fails before a row or namespace exists).
 * `demo create --dry-run` prints this plan.
 */
export function planDemo(
  deps: Pick<CreateDeps, 'config' | 'templates' | 'clock' | 'random' | 'databases'> & {contextName: string | null; clusterId: string | null},
  request: CreateRequest,
): CreatePlan {
  const {config} = deps
  const demoType = resolveType(config, request)
  const ttlMs = resolveLifetimeMs(config, request)
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
    database: deps.databases.planned(id),
    seedValue: request.seedValue ?? randomSeedValue(deps.random.bytes(4)),
    kubeContext: deps.contextName,
    clusterId: deps.clusterId,
    createdBy: request.actor,
    authenticatedAs: null,
    autoCleanup: request.autoCleanup,
    createdAt,
    expiresAt: expiryFor(createdAt, ttlMs),
    metadata: {},
  }
  return {demo, stack: render(deps, demo, previewAccess(demo))}
}

function render(deps: Pick<CreateDeps, 'config' | 'templates'>, demo: NewDemo | Demo, database: DatabaseAccess): RenderedStack {
  return renderStack({config: deps.config, templates: deps.templates, database, demo})
}

/** The live demos a LimitError names, soonest to expire first; the rest are counted (a cap of 100 made a wall of text). */
const LIMIT_ERROR_LISTS = 5

function limitError(refused: 'owner' | 'global', live: Demo[], deps: Pick<CreateDeps, 'config' | 'clock'>, actor: string): LimitError {
  const now = deps.clock.now().getTime()
  const soonest = [...live].sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || byCodeUnit(a.id, b.id))
  const lines = soonest
    .slice(0, LIMIT_ERROR_LISTS)
    .map((d) => `${d.id} (${d.demoType}, ${d.status}, ${d.createdBy}, expires in ${formatDuration(d.expiresAt.getTime() - now)})`)
  const more = live.length > LIMIT_ERROR_LISTS ? `; and ${live.length - LIMIT_ERROR_LISTS} more (\`demo list\`)` : ''
  const cap =
    refused === 'owner'
      ? `${actor} already has ${live.length} live demos (limit ${deps.config.limits.perOwner})`
      : `the team has ${deps.config.limits.global} live demos (the global limit)`
  return new LimitError(`Cannot create a demo: ${cap}: ${lines.join('; ')}${more}.`, {
    hint: `Destroy one with \`demo destroy ${soonest[0]?.id ?? '<id>'}\` (or wait for it to expire), or raise limits.${refused === 'owner' ? 'perOwner' : 'global'} in demo.config.yaml.`,
  })
}

/** Inserts the row; a reached cap fails the step (LimitError), so the progress shows the step failed. */
async function recordDemo(deps: CreateDeps, demo: NewDemo, actor: string): Promise<Demo> {
  const ttlHours = (demo.expiresAt.getTime() - demo.createdAt.getTime()) / 3_600_000
  const result = await deps.store.insert(demo, deps.config.limits, {
    demoId: demo.id,
    type: 'created',
    at: demo.createdAt,
    actor,
    data: {type: demo.demoType, ttlHours},
  })
  if ('refused' in result) throw limitError(result.refused, result.live, deps, actor)
  return result.inserted
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw cancelledError(signal)
}

/** What the steps of one create share: the row as it is now, and what earlier steps produced. */
interface CreateRun {
  deps: CreateDeps
  request: CreateRequest
  timings: Record<string, number>
  demo: Demo
  owner: Ownership
  /** The stack rendered without database secrets: names and policy objects, known before the database exists. */
  preview: RenderedStack
  /** The stack's objects rendered with the database access; set by the database step. */
  objects?: ReturnType<typeof stepObjects>
}

/**
 * One named step of a create: its progress title, its key (in phase timings, and the checkpoint passed after
 * it), what it does, and what a rollback undoes of it. Every step is safe to repeat.
 */
interface CreateStep {
  key: string
  title: (run: CreateRun) => string
  /** Left out when this returns true (the wait with --no-wait). */
  skip?: (run: CreateRun) => boolean
  /** What a rollback removes of this step's work (it removes the namespace and the database, whichever step failed). */
  undo?: 'namespace' | 'database'
  run: (run: CreateRun, report: (message: string) => void) => Promise<void>
}

function objectsOf(run: CreateRun): ReturnType<typeof stepObjects> {
  if (!run.objects) throw new DemoError(`Create of demo "${run.demo.id}": the database step must run before the objects are applied.`)
  return run.objects
}

/** The steps after the row is recorded, in order. A new step (migrations, seeds, logins) is one more entry. */
export const CREATE_STEPS: readonly CreateStep[] = [
  {
    key: 'namespace',
    title: (r) => `Namespace ${r.demo.namespace} and policies`,
    undo: 'namespace',
    run: async (r) => {
      await r.deps.cluster.ensureNamespace(r.preview.namespace, r.owner)
      await r.deps.cluster.apply(stepObjects(r.preview).policy, r.owner)
    },
  },
  {
    key: 'database',
    title: (r) => `Database (${r.deps.databases.mode})`,
    undo: 'database',
    run: async (r, report) => {
      const access = await r.deps.databases.provision(r.demo, {
        // The row points at what exists (a Supabase project's ref) before the long wait, so a killed create leaves it findable.
        record: async (database) => {
          r.demo = await recordDatabase(r.deps, r.demo, {database, secretEnv: {}})
        },
        progress: report,
      })
      r.demo = await recordDatabase(r.deps, r.demo, access)
      for (const [part, seconds] of Object.entries(access.timings ?? {})) r.timings[`database.${part}`] = seconds
      r.objects = stepObjects(render(r.deps, r.demo, access))
    },
  },
  {key: 'secrets', title: () => 'Secrets', run: (r) => r.deps.cluster.apply(objectsOf(r).secrets, r.owner)},
  {
    key: 'services',
    title: (r) => `Services (${r.preview.deploymentNames.length} deployments)`,
    run: (r) => r.deps.cluster.apply(objectsOf(r).services, r.owner),
  },
  {key: 'ingress', title: () => 'Ingress', run: (r) => r.deps.cluster.apply(objectsOf(r).ingress, r.owner)},
  {
    key: 'wait',
    title: () => 'Wait until every deployment is Available',
    skip: (r) => !r.request.wait,
    run: async (r) => {
      await awaitReady(r.deps, {namespace: r.demo.namespace, deploymentNames: r.preview.deploymentNames, timeoutMs: r.request.waitTimeoutMs})
    },
  },
]

/** Runs a timed step, records its duration in seconds, stops first if cancelled, then passes the named checkpoint. */
async function timed<T>(
  deps: CreateDeps,
  timings: Record<string, number>,
  names: {title: string; key: string; demoId: string},
  run: (report: (message: string) => void) => Promise<T>,
): Promise<T> {
  throwIfCancelled(deps.signal)
  const started = deps.clock.now().getTime()
  const result = await deps.steps.run(names.title, run)
  timings[names.key] = Math.round(deps.clock.now().getTime() - started) / 1000
  deps.checkpoint(names.key, names.demoId)
  return result
}

export interface CreateResult {
  demo: Demo
  /** Whether the demo was waited for (false with --no-wait: the row stays `creating`). */
  waited: boolean
}

/**
 * Creates a demo: row `creating`, then CREATE_STEPS in order (namespace and policies → database → secrets →
 * services, server-side applied in parallel → ingress → wait until every Deployment is Available), then row
 * `ready` with phase timings. Every step is idempotent. On failure or cancel the namespace and database are
 * removed (unless keepOnFailure) and the row says `failed` with the reason; a crash leaves a `creating` row
 * and labelled objects that `demo destroy` (or gc) finishes.
 */
export async function createDemo(deps: CreateDeps, request: CreateRequest): Promise<CreateResult> {
  const planned = planDemo({...deps, contextName: deps.cluster.contextName(), clusterId: null}, request)
  throwIfCancelled(deps.signal)
  const timings: Record<string, number> = {}
  // Before a row or namespace exists, side by side (each is a round trip or two): who the cluster says we are,
  // whether these credentials may create and roll back, the shared database's reachability and privileges (the
  // type's seed and migrations too), and which cluster this is (every row says which cluster it lives in). The
  // first failure in that order is reported, as if they had run one after the other.
  const checkStarted = deps.clock.now().getTime()
  const [authenticatedAs, , , clusterId] = await firstFailureInOrder([
    authenticatedCreator(deps),
    assertPermitted(deps, planned),
    deps.databases.check(planned.demo.demoType).then(() => {
      timings.databaseCheck = Math.round(deps.clock.now().getTime() - checkStarted) / 1000
    }),
    deps.cluster.identity(),
  ] as const)
  const plan = {...planned, demo: {...planned.demo, authenticatedAs, clusterId}}
  const inserted = await timed(deps, timings, {title: 'Record the demo', key: 'record', demoId: plan.demo.id}, () =>
    recordDemo(deps, plan.demo, request.actor),
  )
  const run: CreateRun = {
    deps,
    request,
    timings,
    demo: inserted,
    owner: {demoId: inserted.id, namespace: inserted.namespace},
    preview: render(deps, inserted, previewAccess(inserted)),
  }
  try {
    for (const step of CREATE_STEPS) {
      if (!step.skip?.(run))
        await timed(deps, timings, {title: step.title(run), key: step.key, demoId: run.demo.id}, (report) => step.run(run, report))
    }
    const demo = request.wait ? await markReady(deps, run.demo, timings, request.actor) : await saveTimings(deps, run.demo, timings)
    return {demo, waited: request.wait}
  } catch (error) {
    throw await rollBack(deps, {demo: run.demo, error, timings, keep: request.keepOnFailure, actor: request.actor})
  }
}

/** Waits for every promise, then throws the failure of the first one in the list that failed, or returns all values. */
async function firstFailureInOrder<T extends readonly unknown[]>(promises: {readonly [K in keyof T]: Promise<T[K]>}): Promise<T> {
  const settled = await Promise.allSettled(promises)
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/**
 * Who the cluster says the creator is, recorded next to the declared owner (fault matrix X9). A cluster that cannot
 * tell (no SelfSubjectReview, or not allowed) does not stop the create: the row then keeps the declared owner only,
 * and the user is told that anyone claiming that name may destroy it.
 */
async function authenticatedCreator(deps: Pick<CreateDeps, 'cluster' | 'warn'>): Promise<string | null> {
  const user = await deps.cluster.authenticatedUser()
  if ('username' in user) return user.username
  deps.warn?.(
    `The cluster cannot tell who you are (${user.unavailable}); the demo records only its declared owner, so anyone who declares that name can destroy or extend it.`,
  )
  return null
}

/**
 * Refuses, before anything is written, credentials that could not finish the create or roll it back (fault matrix
 * T16): a 403 halfway would leave a namespace that, without delete, nobody with these credentials can remove.
 */
async function assertPermitted(deps: Pick<CreateDeps, 'cluster'>, plan: Pick<CreatePlan, 'stack' | 'demo'>): Promise<void> {
  const missing = await deps.cluster.missingPermissions([plan.stack.namespace, ...plan.stack.objects], plan.demo.namespace)
  if (missing.length === 0) return
  const context = deps.cluster.contextName()
  throw new PermissionError(`Cannot create a demo in context "${context}": these credentials may not ${missing.join('; ')}. Nothing was created.`, {
    hint: `Ask a cluster admin for these permissions (\`kubectl auth can-i ${missing[0]?.replace(/ in namespace "(.*)"$/, ' -n $1') ?? ''}\` checks one), or use another context (--context).`,
  })
}

/** Records what provisioning learnt (a project's ref and keys ...); the mode stays the one the row was created with. */
async function recordDatabase(deps: CreateDeps, demo: Demo, access: DatabaseAccess): Promise<Demo> {
  if (access.database.mode !== demo.database.mode) {
    throw new DemoError(
      `Create of demo "${demo.id}": the database was provisioned as ${access.database.mode}, but the demo records ${demo.database.mode}.`,
    )
  }
  if (isSameDatabase(access.database, demo.database)) return demo
  return deps.store.update(demo.id, demo.version, {database: access.database})
}

async function saveTimings(deps: CreateDeps, demo: Demo, timings: Record<string, number>): Promise<Demo> {
  const latest = (await deps.store.get(demo.id)) ?? demo
  return deps.store.update(demo.id, latest.version, {phaseTimings: {...timings}})
}

/** Row `ready` with the phase timings and `total` (since the row was created), and a `ready` event; also what `demo wait` ends with. */
export async function markReady(
  deps: Pick<CreateDeps, 'store' | 'clock'>,
  demo: Demo,
  timings: Record<string, number>,
  actor: string,
): Promise<Demo> {
  const now = deps.clock.now()
  const total = (now.getTime() - demo.createdAt.getTime()) / 1000
  const phaseTimings = {...timings, total: Math.round(total * 1000) / 1000}
  const latest = (await deps.store.get(demo.id)) ?? demo
  try {
    return await deps.store.update(
      demo.id,
      latest.version,
      {status: 'ready', readyAt: now, phaseTimings},
      {demoId: demo.id, type: 'ready', at: now, actor, data: {seconds: phaseTimings.total}},
    )
  } catch (error) {
    if (error instanceof DemoError) throw error
    throw new DemoError(`Demo "${demo.id}" is up, but recording it as ready failed.`, {cause: error})
  }
}
