import type {DatabaseMode, Demo, DemoDatabase, DemoStatus, PhaseTimings} from './demo.js'

/** The current time. Core never reads the system clock itself. */
export interface Clock {
  now(): Date
}

/** Randomness for ids and passwords. */
export interface Random {
  bytes(count: number): Uint8Array
}

/** What a new row holds; the store fills version, updatedAt and the counters. */
export type NewDemo = Omit<Demo, 'version' | 'updatedAt' | 'readyAt' | 'destroyedAt' | 'extensionCount' | 'lastError' | 'phaseTimings'>

/** Fields a use case may change on an existing row. */
export type DemoPatch = Partial<
  Pick<
    Demo,
    | 'status'
    | 'expiresAt'
    | 'readyAt'
    | 'destroyedAt'
    | 'extensionCount'
    | 'lastError'
    | 'phaseTimings'
    | 'portalUrl'
    | 'candidateUrl'
    | 'database'
    | 'seedValue'
    | 'metadata'
  >
>

export type DemoEventType =
  | 'created'
  | 'ready'
  | 'failed'
  | 'extended'
  | 'degraded'
  | 'recovered'
  | 'destroying'
  | 'destroyed'
  | 'rolled-back'
  /** `demo reset` put the demo's data back to its seeded state. */
  | 'reset'
  /** gc removed what a failed create left behind; the row stays `failed`. */
  | 'cleaned-up'
  /** gc sent an "expiring soon" notice to the alert webhook; `data.expiresAt` is the expiry it was about (one per expiry time). */
  | 'expiry-notice'

/** One line of the append-only audit trail. */
export interface DemoEvent {
  demoId: string
  type: DemoEventType
  at: Date
  actor: string
  data: Record<string, unknown>
}

export interface DemoFilter {
  /** Rows in one of these statuses; absent or empty: every status. */
  statuses?: DemoStatus[]
  /**
   * Also rows that are `failed` with `metadata.cleanup` "kept" or "incomplete" (their namespace may still
   * exist), whatever `statuses` says. Other filters still apply.
   */
  includeFailedWithLeftovers?: boolean
  createdBy?: string
  demoType?: string
}

export interface Page {
  limit: number
  offset: number
}

export interface DemoPage {
  items: Demo[]
  total: number
}

export interface LiveCaps {
  perOwner: number
  global: number
}

/** Why an insert was refused: whose cap was hit, and the live demos that count against it. */
export type InsertResult = {inserted: Demo} | {refused: 'owner' | 'global'; live: Demo[]}

/**
 * The shared state of every demo (Postgres or the embedded PGlite store).
 * Every write is atomic; updates compare-and-set on `version` and on the state machine, so
 * concurrent writers never lose an update and an illegal status change is refused.
 */
export interface DemoStore {
  /** Inserts a row unless a live-demo cap is reached; the count and the insert are one atomic step. DuplicateError when the id or namespace is taken. */
  insert(demo: NewDemo, caps: LiveCaps, event: DemoEvent): Promise<InsertResult>
  /** The row, or undefined when no demo has this id. */
  get(id: string): Promise<Demo | undefined>
  /**
   * The demos a user's reference may mean, at most MAX_REFERENCE_CANDIDATES (naming.ts) of them: rows whose id, namespace
   * or name equals `ref`, and, when `ref` has at least MIN_ID_PREFIX characters, rows whose id starts with it
   * (literally: "_" and "%" are plain characters). Order: an exact id first, then an exact namespace, then the
   * rows that may hold objects (live, or failed with leftovers), then newest first. Any status, destroyed too.
   */
  findByReference(ref: string): Promise<Demo[]>
  /** A page of rows, newest first. */
  list(filter: DemoFilter, page: Page): Promise<DemoPage>
  /**
   * Applies `patch` if the row still has `expectedVersion` and, when the patch sets a status, the
   * current status may move to it. Records `event` in the same write: both happen or neither.
   * Throws StateTransitionError (status) or VersionConflictError (someone else wrote first).
   */
  update(id: string, expectedVersion: number, patch: DemoPatch, event?: DemoEvent): Promise<Demo>
  /** The audit trail of one demo, oldest first. */
  events(demoId: string): Promise<DemoEvent[]>
  /**
   * The state database's clock. Every expiry decision (extend, "expires in", gc) is made by this clock, not the
   * machine's, so a laptop or a CronJob pod whose clock is off decides like everyone else (Deps keeps the offset).
   */
  now(): Promise<Date>
  /** Where the state lives, for messages ("embedded store at ~/.local/share/demo/state"). */
  describe(): string
}

/** A Kubernetes object as plain data (rendered from templates). */
export interface Manifest {
  apiVersion: string
  kind: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  [field: string]: unknown
}

/** The marks that make an object ours: gc and destroy act only on objects that carry them and match a row. */
export interface Ownership {
  demoId: string
  namespace: string
}

export interface DeploymentState {
  name: string
  desired: number
  ready: number
  available: number
  /**
   * Pods the deployment has, ready or not (its status.replicas): fewer than desired while its controllers have yet
   * to create them or a quota refuses them. Absent when the adapter does not know.
   */
  pods?: number
  /** Why it is not available yet, from conditions and pod events ("ImagePullBackOff", "exceeded quota" ...). */
  reason: string | null
  /**
   * Pods of the deployment whose containers have restarted: the pod, its restarts in all, and when a container
   * last terminated (null when the API server does not say). Health counts those within the last hour.
   * Absent when the adapter reports none.
   */
  restarts?: PodRestarts[]
}

export interface PodRestarts {
  pod: string
  count: number
  lastAt: Date | null
}

export interface OwnedNamespace {
  name: string
  demoId: string
  terminating: boolean
  expiresAt: Date | null
  /** When the API server created it (gc leaves namespaces younger than its grace period alone); null if unknown. */
  createdAt: Date | null
}

/**
 * A watch of something in the cluster (list, then watch from that list's resourceVersion, as `kubectl wait` and
 * informers do), kept until close() or until the signal it was opened with aborts.
 */
export interface Watch<T> {
  /**
   * The latest view as soon as it changed since the previous call (the first call: once the initial list is in),
   * else after `maxWaitMs` with `changed: false` (the caller's resync: it reads the full state then, so a change
   * the watch missed is never missed for long). Rejects with the signal's reason once the signal aborts. Never
   * rejects for the API: a watch the server ends or that fails is restarted (relisted) in the background, with
   * backoff, and meanwhile only the resync answers.
   */
  next(maxWaitMs: number): Promise<{changed: boolean; value: T}>
  /** Ends the watch and its connection. Idempotent. */
  close(): void
}

/** Who the cluster says the caller is, or why it cannot tell (no SelfSubjectReview API: 404, or not allowed: 403). */
export type AuthenticatedUser = {username: string} | {unavailable: string}

/** The Kubernetes cluster of the current kubeconfig context. Every call is bounded by a timeout and retried when safe. */
export interface Cluster {
  /** The kubeconfig context name, recorded on the demo. */
  contextName(): string
  /**
   * The cluster's stable identity, the same through every kubeconfig and in-cluster: the UID of its
   * `kube-system` namespace, recorded on the demo at create. Read once per connection (a call while the read
   * runs shares it; a failed read is tried again by the next call); throws ClusterError.
   */
  identity(): Promise<string>
  /** Creates the demo's namespace, or adopts it if it already carries this demo's marks. Throws ForeignNamespaceError or NamespaceTerminatingError otherwise. */
  ensureNamespace(namespace: Manifest, owner: Ownership): Promise<void>
  /** Server-side applies objects into the demo's namespace, in parallel under a concurrency bound. Idempotent. NamespaceGoneError, ForeignNamespaceError or NamespaceTerminatingError when the namespace is not (or no longer) the demo's to fill. */
  apply(objects: Manifest[], owner: Ownership): Promise<void>
  /**
   * Current readiness of every Deployment in the namespace (by the same rule as watchDeployments), with why each
   * waiting one waits (reads its ReplicaSets, pods and Warning events: four lists).
   */
  deployments(namespace: string): Promise<DeploymentState[]>
  /**
   * Watches the Deployments of the namespace: their states as they and their ReplicaSets tell (counts; a reason only
   * from their conditions, never from pods or events: `deployments` reads those). A deployment is available as soon
   * as either says so: its own status, or the one ReplicaSet that runs its current pod template, whose controller
   * counts the pods first. Costs two lists and two open watches.
   */
  watchDeployments(namespace: string, signal: AbortSignal): Watch<DeploymentState[]>
  /**
   * Watches whether the namespace still exists (it is gone once deleted, finalizers done). Cheap to hold by the
   * hundred: the Kubernetes adapter serves every such watch from one shared watch of all namespaces.
   */
  watchNamespace(namespace: string, signal: AbortSignal): Watch<{exists: boolean}>
  /**
   * Deletes the namespace if it carries the demo's marks (ForeignNamespaceError otherwise); returns false when it was
   * already gone. May then delete the demo's own pods at once (gracefully), as the namespace's deletion would 5 s later.
   */
  deleteNamespace(owner: Ownership): Promise<boolean>
  /**
   * Whether the namespace still exists, and the finalizers or conditions holding it if terminating. While
   * namespaces are watched (watchNamespace) the Kubernetes adapter may answer from that watch's cache, relisted
   * every few seconds, instead of a GET.
   */
  namespaceStatus(namespace: string): Promise<{exists: boolean; terminating: boolean; blockers: string[]}>
  /**
   * Moves the expiry annotations of the demo's namespace to `expiresAt`: expires-at, and janitor/expires where
   * the namespace has it (so kube-janitor does not delete an extended demo at its old time, and never gets a
   * time for a demo created with --no-auto-cleanup). False when the namespace is gone.
   */
  setExpiry(owner: Ownership, expiresAt: Date): Promise<boolean>
  /** Every namespace that carries our managed-by mark. */
  ownedNamespaces(): Promise<OwnedNamespace[]>
  /**
   * Who the API server authenticated the credentials of this context as (SelfSubjectReview, `kubectl auth
   * whoami`). `unavailable` when the API is not served or not allowed (404/403); other failures throw ClusterError.
   */
  authenticatedUser(): Promise<AuthenticatedUser>
  /**
   * What these credentials may not do of what creating `objects` in `namespace` takes (create, apply, roll back,
   * wait), as "verb resource.group in namespace ..." (SelfSubjectAccessReview); empty when all is allowed or the
   * cluster does not answer such reviews. Read-only.
   */
  missingPermissions(objects: Manifest[], namespace: string): Promise<string[]>
  /**
   * The values of a Secret of the demo's namespace (decoded), or null when the namespace or the Secret is gone.
   * ForeignNamespaceError when the namespace does not carry the demo's marks. Read-only; the values are secrets.
   */
  secretValues(owner: Ownership, name: string): Promise<Record<string, string> | null>
}

/** Connection details a demo's services get in their Secret. Passwords never reach the state store. */
export interface DatabaseAccess {
  /** What the row records of the database (its mode is the adapter's). */
  database: DemoDatabase
  /** Environment for the app's Secret (DATABASE_URL, SUPABASE_URL ...). Secret values; never logged. */
  secretEnv: Record<string, string>
  /**
   * Environment for a Secret of its own that only services declaring `supabaseServiceRole: true` read
   * (SUPABASE_SERVICE_ROLE_KEY): it bypasses row-level security, so it never goes into the Secret every pod reads.
   */
  serviceRoleEnv?: Record<string, string>
  /**
   * Seconds the parts of provisioning took (shared-schema: `schema`, `migrations`, `seed`, `logins`, `seedCommand`); create records them in
   * the phase timings as `database.<part>`, inside the `database` step's own time.
   */
  timings?: Record<string, number>
}

/** A per-demo database that a Databases adapter found in the world, whether or not a row still records it. */
export interface OwnedDatabase {
  /** The demo it belongs to, read from its name (`demo_<id>`, `demo-<id>`). */
  demoId: string
  /** How messages and gc's report name it ("schema demo_k3x9a2bq", "project abcdefghijkl"). */
  name: string
  /** What `drop` needs to remove it. */
  database: DemoDatabase
}

/** What a long provision reports while it runs. */
export interface ProvisionHooks {
  /** Saves on the demo's row what is known so far (awaited, so a crash after it leaves the row pointing at it). */
  record?(database: DemoDatabase): Promise<void>
  /** A line of progress ("project abc… is COMING_UP, 40 s"). Never a secret. */
  progress?(message: string): void
}

/** The per-demo database of one mode (a demo's recorded `database.mode`). */
export interface Databases {
  readonly mode: DatabaseMode
  /** What a new row records before anything exists, named from the id, so a killed create leaves something destroy and gc can find. Pure. */
  planned(demoId: string): DemoDatabase
  /**
   * Throws a DemoError naming the fix when a new demo could not get a database (the shared database is
   * unreachable, lacks privileges, the type's seed is missing; a Supabase organization is at its project limit):
   * create calls it before anything is written.
   */
  check(demoType: string): Promise<void>
  /**
   * Creates the demo's database (with the app's migrations and the type's seed generated from `seedValue`,
   * dates relative to `createdAt`), or adopts the one a killed create left. Idempotent. `hooks.record` is called
   * with what must be on the row before a long wait (a Supabase project's ref), `hooks.progress` with news of it.
   */
  provision(demo: Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt' | 'seedValue'>, hooks?: ProvisionHooks): Promise<DatabaseAccess>
  /**
   * Puts the demo's data back to its freshly seeded state in place: empties the app's tables and loads the seed of
   * `seedValue` in one transaction (demo logins keep their passwords). UsageError for a mode without data.
   */
  reseed(demo: Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt'>, seedValue: number): Promise<void>
  /** Removes the demo's database; one that is already gone is success. Idempotent. */
  drop(demo: Pick<Demo, 'id' | 'database'>): Promise<void>
  isReachable(demo: Pick<Demo, 'id' | 'database'>): Promise<boolean>
  /**
   * Every per-demo database of this mode that carries our naming, with the demo each belongs to, whether or not
   * a row still records it (gc drops those without a live row). Read-only. Throws when the database server or
   * API cannot be read, so a caller never takes an unreadable world for an empty one. Mode `none` owns nothing.
   */
  owned(): Promise<OwnedDatabase[]>
  /**
   * How the demo's data looks through its Data API (a Supabase project's PostgREST), as the demo's anon role sees
   * it: undefined when the demo has no Data API. Never throws: a failure is `healthy: false` with why.
   */
  checkDataApi?(demo: Pick<Demo, 'id' | 'database'>): Promise<{healthy: boolean; detail: string} | undefined>
}

/**
 * The Databases adapter of a mode: create asks for the configured one, destroy, rollback and gc for the one a
 * demo was recorded with. UnsupportedDatabaseModeError when this version cannot handle that mode. `recorded`
 * is the database as the demo's row records it: a shared schema recorded on a Supabase project is dropped
 * through that project (its Data API exposure and Auth users) even when the config no longer names it.
 */
export type DatabasesFor = (mode: DatabaseMode, recorded?: DemoDatabase) => Promise<Databases>

/** An "expiring soon" notice for a demo's owner (expiry-notices.ts decides which demos get one). */
export interface ExpiryNotice {
  demoId: string
  name: string | null
  namespace: string
  /** The declared owner (created_by). */
  owner: string
  expiresAt: Date
  /** Time left when gc decided, by the state database's clock. */
  expiresInMs: number
  /** The exact command that keeps the demo (`demo extend <id> --by 1h`). */
  extendCommand: string
}

/** Where gc's "expiring soon" notices go (the alert webhook). */
export interface Notifier {
  /** Delivers one notice: whether it arrived, in words that never contain a secret (the webhook URL). Never throws. */
  send(notice: ExpiryNotice): Promise<{ok: boolean; detail: string}>
}

/** Waiting between polls. Core never calls setTimeout itself; tests pass a fake that advances a fake clock. */
export interface Sleeper {
  /** Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * Named points in a long use case ("namespace-created", "applied" ...). The CLI uses them for nothing but a
 * test hook that kills the process there (DEMO_TEST_KILL_AT), to prove a crash at any step is recoverable,
 * and to learn the demo's id (the second Ctrl-C names it).
 */
export type Checkpoint = (name: string, demoId: string) => void

/** Runs one named step of a use case and reports its progress (Listr on a TTY, a line per step otherwise). */
export interface StepRunner {
  /** `report` shows a line of news under the running step (a long wait's progress); never a secret. */
  run<T>(title: string, step: (report: (message: string) => void) => Promise<T>): Promise<T>
}

/** Timing of the steps of a use case, for phase timings. */
export type Timings = PhaseTimings

/** An object by kind and name (`demo gc install`'s objects, which belong to no demo). */
export interface ObjectRef {
  apiVersion: string
  kind: string
  name: string
  namespace?: string | undefined
}

/**
 * demo's own objects in the cluster of the current context, outside every demo (`demo gc install`): applied
 * server-side as our field manager and found again by label. Every call is bounded by a timeout and retried when safe.
 */
export interface InstallTarget {
  /** The labels of the object (empty when it has none), or undefined when it does not exist. */
  labelsOf(ref: ObjectRef): Promise<Record<string, string> | undefined>
  /** Server-side applies one object, forcing our field manager's values over drift. Idempotent. */
  apply(object: Manifest): Promise<void>
  /** Every object of this kind that carries all labels of `selector` and is not already being deleted, only in `namespace` for a namespaced kind. */
  find(kind: Pick<ObjectRef, 'apiVersion' | 'kind'>, selector: Record<string, string>, namespace?: string): Promise<ObjectRef[]>
  /** Deletes the object and, in the background, its dependents (a CronJob's Jobs); false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>
  /** Whether Secret `name` in `namespace` has `key`; undefined when it may not be read. Never hands out the value. */
  secretHasKey(namespace: string, name: string, key: string): Promise<boolean | undefined>
}

/** What one HTTP GET of a URL answered. Redirects are never followed: `location` says where it pointed. */
export interface UrlProbeResult {
  /** The HTTP status, or null when no answer came (timeout, refused connection, TLS handshake failure). */
  status: number | null
  /** Time to the response headers (or to the failure), in ms. */
  latencyMs: number
  /** The absolute Location of a 3xx answer, else null. */
  location: string | null
  /** For https: whether the certificate chain is trusted and valid now, why not, and when it expires. Null for http. */
  tls: {valid: boolean; error: string | null; validTo: Date | null} | null
  /** Why there was no answer ("timed out after 5s", "connect ECONNREFUSED ..."), else null. */
  error: string | null
}

/** HTTP GETs of a demo's URLs for `demo health`. Never throws: a failure is an answer with `error`. */
export interface UrlProber {
  probe(url: string, timeoutMs: number): Promise<UrlProbeResult>
}

/** A span of time: from `since` (included) to `until` (excluded). */
export interface TimeWindow {
  since: Date
  until: Date
}

/** Demo-hours and demos created of one demo type and owner. */
export interface TypeOwnerUsage {
  type: string
  owner: string
  /** Demos created inside the window. */
  created: number
  /** Hours demos were alive inside the window (created to destroyed or failed; a live one up to the window's end, or its expiry for committedHours). */
  hours: number
}

/**
 * What the audit trail says about a window (the `Stats` port's answer). A demo is alive from its `created` event
 * to its first `destroyed` or `failed` event; a demo with neither is still alive.
 */
export interface Usage {
  /** `created` events. */
  created: number
  /** Distinct owners (actors of `created` events). */
  uniqueUsers: number
  ready: number
  failed: number
  /** `failed` events by their `data.reason` ("unknown" without one), most frequent first, then by reason. */
  failedByReason: Array<{reason: string; count: number}>
  /** `destroyed` events by an actor other than `gc`. */
  destroyedByHand: number
  /** `destroyed` events whose actor is `gc`. */
  destroyedByGc: number
  extended: number
  /** Seconds from creation to each `ready` event in the window: percentiles (continuous, as percentile_cont), and how many took at most `goalSeconds`. */
  timeToReady: {count: number; p50Seconds: number | null; p95Seconds: number | null; withinGoal: number}
  /** Mean seconds from creation to end of the demos that ended (destroyed or failed) in the window; null when none did. */
  averageLifetimeSeconds: number | null
  /** The most demos alive at one moment of the window (a demo ending at the moment another starts does not overlap it). */
  peakConcurrent: number
  /** Per type and owner, sorted by type then owner; only pairs with a demo alive in the window. */
  byTypeAndOwner: TypeOwnerUsage[]
  /** `created` events per ISO week (Monday, UTC, "YYYY-MM-DD"), weeks without any left out, oldest first. */
  weeks: Array<{weekStart: string; created: number}>
}

/** How fast a demo should be ready: the plan's goal of 3 minutes. */
export const READY_GOAL_SECONDS = 180

/** Usage analytics over the append-only audit trail, aggregated where the data is (SQL), never by loading rows. Read-only. */
export interface Stats {
  /** The aggregates of `window` (see Usage). */
  usage(window: TimeWindow): Promise<Usage>
  /**
   * Demo-hours per type and owner inside `window`, a demo that has not ended counted up to its expiry (or `now`
   * if that is later): what the window costs if nobody extends or destroys anything. For budgets.
   */
  committedHours(window: TimeWindow, now: Date): Promise<TypeOwnerUsage[]>
}

/** One permission a command needs: a verb on a resource of an API group, cluster-wide (demo namespaces are new each time). */
export interface Permission {
  verb: string
  resource: string
  /** "" for the core group. */
  group: string
}

/** What `demo doctor` asks the cluster about the current identity. Read-only. */
export interface ClusterAccess {
  /** The kubeconfig context name. */
  contextName(): string
  /** The API server's address, for messages. */
  server(): string
  /** Resolves when the API server answers a discovery request; throws ClusterError / ClusterUnavailableError otherwise. */
  ping(): Promise<void>
  /** Whether the current identity may do it (a SelfSubjectAccessReview, cluster-wide). */
  canI(permission: Permission): Promise<boolean>
  /** Whether the IngressClass exists. */
  ingressClassExists(name: string): Promise<boolean>
}

/** A Supabase project as the Management API describes it (no secrets). */
export interface SupabaseProject {
  ref: string
  name: string
  /** ACTIVE_HEALTHY, COMING_UP, INIT_FAILED ... as the API says it. */
  status: string
  organization: string
  /** The database host, when the API reports it. */
  databaseHost: string | null
}

export interface NewSupabaseProject {
  name: string
  organization: string
  region: string
  /** Secret; sent once, never logged. */
  databasePassword: string
  /** Deprecated by the API (the plan is the organization's); sent only when configured. */
  plan?: 'free' | 'pro' | undefined
}

/** The keys of a project's APIs. The service-role key is a secret; the anon key is public but shown masked. */
export interface SupabaseApiKeys {
  anon: string
  serviceRole: string
}

/**
 * The Supabase Management API (api.supabase.com/v1), worded as what demo needs. Every call is bounded by a
 * timeout; 429 and 5xx are retried with backoff and jitter (Retry-After honoured), non-idempotent calls only on
 * 429. Errors: SupabaseAuthError (401/403), SupabaseUnavailableError (unreachable, 5xx or 429 after retries),
 * SupabaseError (anything else the API refused).
 */
export interface SupabaseManagement {
  /** POST /v1/projects. Not idempotent: callers look for a project of the same name first. */
  createProject(project: NewSupabaseProject): Promise<SupabaseProject>
  /** The project, or undefined when the API answers 404. */
  project(ref: string): Promise<SupabaseProject | undefined>
  /** Every project the token can see (all organizations). */
  projects(): Promise<SupabaseProject[]>
  /** DELETE /v1/projects/{ref}; false when it was already gone (404). Idempotent. */
  deleteProject(ref: string): Promise<boolean>
  apiKeys(ref: string): Promise<SupabaseApiKeys>
  /** Sets a new database password (a create adopting a project whose password it never learnt). */
  setDatabasePassword(ref: string, password: string): Promise<void>
  /** The organization's plan ("free", "pro" ...), undefined when the API does not say. */
  organizationPlan(slug: string): Promise<string | undefined>
  /** The schemas the project's Data API (PostgREST) exposes, in order. */
  exposedSchemas(ref: string): Promise<string[]>
  /** Replaces the schemas the project's Data API exposes. */
  setExposedSchemas(ref: string, schemas: string[]): Promise<void>
}
