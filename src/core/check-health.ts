import {assertDemoCluster, connectDemoCluster} from './cluster-match.js'
import type {Demo} from './demo.js'
import {formatDuration} from './duration.js'
import {VersionConflictError, StateTransitionError} from './errors.js'
import type {Clock, Cluster, DatabasesFor, DeploymentState, DemoEvent, DemoStore, UrlProber, UrlProbeResult} from './ports.js'

/** A demo's health, worst first: what `demo health` exits with (0, 4, 5). */
export const HEALTH_RESULTS = ['healthy', 'degraded', 'unhealthy'] as const
export type HealthResult = (typeof HEALTH_RESULTS)[number]

/**
 * One check's result: a health result, `skipped` (nothing to check: database mode none, --no-urls) or `unknown`
 * (the check could not be made: the API server or the database did not answer). Unknown counts as unhealthy in
 * the overall result, but a demo with an unknown check keeps its status: health never decides on what it could not read.
 */
export type CheckResult = HealthResult | 'skipped' | 'unknown'

export interface HealthCheck {
  /** "namespace", "deployment api-gateway", "database", "url portal". */
  name: string
  result: CheckResult
  /** What a person can act on ("pod web-6d9f-x2 is not ready: ContainersNotReady ..."). */
  detail: string
  /** Numbers of a URL check, for --json. */
  url?: {url: string; status: number | null; latencyMs: number; tlsDaysLeft: number | null}
}

export type HealthTransition = {to: 'degraded'; event: DemoEvent} | {to: 'ready'; event: DemoEvent}

export interface DemoHealth {
  demo: Demo
  result: HealthResult
  checks: HealthCheck[]
  /** What health did to the row: moved it (and why), or left it (with why, when it could have moved). */
  change: {kind: 'degraded'} | {kind: 'recovered'} | {kind: 'unchanged'; note: string | null}
}

/** How long restarts count against a deployment that is Available. */
export const RESTART_WINDOW_MS = 3_600_000
/** A certificate that expires sooner than this is degraded. */
export const TLS_WARN_DAYS = 7
/** Same-host redirects followed before the URL check gives up. */
const MAX_REDIRECTS = 5
const DAY_MS = 86_400_000

const RANK: Record<CheckResult, number> = {skipped: 0, healthy: 0, degraded: 1, unhealthy: 2, unknown: 2}

/** The worst of the checks (no checks, or only skipped ones: healthy). */
export function overallResult(checks: readonly Pick<HealthCheck, 'result'>[]): HealthResult {
  const worst = Math.max(0, ...checks.map((c) => RANK[c.result]))
  return HEALTH_RESULTS[worst] ?? 'unhealthy'
}

/** The worst of several demos' results. */
export function worstResult(results: readonly HealthResult[]): HealthResult {
  return overallResult(results.map((result) => ({result})))
}

export function namespaceCheck(namespace: string, status: {exists: boolean; terminating: boolean; blockers: string[]}): HealthCheck {
  if (!status.exists) return {name: 'namespace', result: 'unhealthy', detail: `namespace ${namespace} does not exist (deleted outside demo?)`}
  if (status.terminating) {
    const held = status.blockers.length > 0 ? `; held by ${status.blockers.join('; ')}` : ''
    return {name: 'namespace', result: 'unhealthy', detail: `namespace ${namespace} is terminating${held}`}
  }
  return {name: 'namespace', result: 'healthy', detail: `namespace ${namespace} exists`}
}

function recentRestarts(state: DeploymentState, now: Date): string | null {
  const recent = (state.restarts ?? []).filter((r) => r.count > 0 && r.lastAt !== null && now.getTime() - r.lastAt.getTime() <= RESTART_WINDOW_MS)
  if (recent.length === 0) return null
  return recent
    .map((r) => `pod ${r.pod} restarted (${r.count} in all, last ${formatDuration(now.getTime() - (r.lastAt?.getTime() ?? 0))} ago)`)
    .join('; ')
}

/**
 * A Deployment: unhealthy when none of its replicas is available, degraded when some are missing or a pod
 * restarted within the last hour, healthy otherwise. The detail names the pods and why.
 */
export function deploymentCheck(state: DeploymentState, now: Date): HealthCheck {
  const name = `deployment ${state.name}`
  const counts = `${state.available}/${state.desired} available, ${state.ready} ready`
  if (state.reason !== null) {
    const result = state.available === 0 && state.desired > 0 ? 'unhealthy' : 'degraded'
    return {name, result, detail: `${counts}: ${state.reason}`}
  }
  const restarts = recentRestarts(state, now)
  if (restarts) return {name, result: 'degraded', detail: `${counts}; in the last hour: ${restarts}`}
  return {name, result: 'healthy', detail: counts}
}

export function deploymentChecks(states: DeploymentState[], now: Date, namespaceExists: boolean): HealthCheck[] {
  if (states.length === 0) {
    const detail = namespaceExists ? 'no Deployment in the namespace' : 'no Deployment (the namespace is gone)'
    return [{name: 'deployments', result: 'unhealthy', detail}]
  }
  return states.map((s) => deploymentCheck(s, now))
}

function tlsVerdict(probe: UrlProbeResult, now: Date): {result: CheckResult; text: string; daysLeft: number | null} {
  if (!probe.tls) return {result: 'healthy', text: '', daysLeft: null}
  const daysLeft = probe.tls.validTo ? Math.floor((probe.tls.validTo.getTime() - now.getTime()) / DAY_MS) : null
  if (!probe.tls.valid) return {result: 'unhealthy', text: `; TLS certificate invalid: ${probe.tls.error ?? 'not trusted'}`, daysLeft}
  if (daysLeft !== null && daysLeft < TLS_WARN_DAYS) return {result: 'degraded', text: `; TLS certificate expires in ${daysLeft} days`, daysLeft}
  return {result: 'healthy', text: daysLeft === null ? '; TLS valid' : `; TLS valid for ${daysLeft} more days`, daysLeft}
}

function statusVerdict(probe: UrlProbeResult, url: string): {result: CheckResult; text: string} {
  if (probe.status === null) return {result: 'unhealthy', text: `no answer: ${probe.error ?? 'unknown error'}`}
  if (probe.location !== null) {
    return {result: 'degraded', text: `HTTP ${probe.status}: redirects to another host (${probe.location}); not followed`}
  }
  if (probe.status >= 500) return {result: 'unhealthy', text: `HTTP ${probe.status}`}
  if (probe.status >= 400) return {result: 'degraded', text: `HTTP ${probe.status}`}
  if (probe.status >= 300) return {result: 'degraded', text: `HTTP ${probe.status} without a Location from ${url}`}
  return {result: 'healthy', text: `HTTP ${probe.status}`}
}

/** One URL's answer judged: 5xx, no answer or an invalid certificate is unhealthy; 4xx, a redirect to another host or a certificate about to expire degraded. */
export function urlCheck(name: string, url: string, probe: UrlProbeResult, now: Date): HealthCheck {
  const status = statusVerdict(probe, url)
  const tls = tlsVerdict(probe, now)
  const result = RANK[tls.result] > RANK[status.result] ? tls.result : status.result
  return {
    name,
    result,
    detail: `GET ${url}: ${status.text} in ${Math.round(probe.latencyMs)} ms${tls.text}`,
    url: {url, status: probe.status, latencyMs: Math.round(probe.latencyMs), tlsDaysLeft: tls.daysLeft},
  }
}

/** The URL of a service's health path under a demo URL (which may have a path of its own). */
export function healthUrl(base: string, healthPath: string): string {
  const url = new URL(base)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${healthPath}`
  return url.toString()
}

/**
 * GETs `url`, following redirects to the same host (at most MAX_REDIRECTS); a redirect to another host is
 * returned as it is (its `location` set), never followed: a demo must answer for itself.
 */
export async function probeUrl(prober: UrlProber, url: string, timeoutMs: number): Promise<UrlProbeResult & {finalUrl: string}> {
  let current = url
  for (let hop = 0; ; hop++) {
    const answer = await prober.probe(current, timeoutMs)
    if (answer.location === null) return {...answer, finalUrl: current}
    const next = new URL(answer.location, current)
    if (next.host !== new URL(url).host || hop >= MAX_REDIRECTS) return {...answer, location: next.toString(), finalUrl: current}
    current = next.toString()
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export interface HealthDeps {
  store: DemoStore
  /** The cluster of a demo's recorded kubeconfig context. */
  clusterFor: (kubeContext: string | null) => Promise<Cluster>
  databasesFor: DatabasesFor
  prober: UrlProber
  clock: Clock
}

export interface HealthOptions {
  /** The URLs to GET, by check name ("url portal" → https://portal-x/health); empty with --no-urls. */
  urls: (demo: Demo) => Array<{name: string; url: string}>
  urlTimeoutMs: number
  actor: string
}

async function clusterChecks(deps: HealthDeps, demo: Demo): Promise<HealthCheck[]> {
  let cluster: Cluster
  try {
    cluster = await connectDemoCluster(deps.clusterFor, demo)
    await assertDemoCluster(cluster, demo, `demo health ${demo.id}`)
  } catch (error) {
    return [{name: 'cluster', result: 'unknown', detail: messageOf(error)}]
  }
  let namespace: HealthCheck
  try {
    const status = await cluster.namespaceStatus(demo.namespace)
    namespace = namespaceCheck(demo.namespace, status)
    if (!status.exists) return [namespace, ...deploymentChecks([], deps.clock.now(), false)]
  } catch (error) {
    return [{name: 'namespace', result: 'unknown', detail: messageOf(error)}]
  }
  try {
    return [namespace, ...deploymentChecks(await cluster.deployments(demo.namespace), deps.clock.now(), true)]
  } catch (error) {
    return [namespace, {name: 'deployments', result: 'unknown', detail: messageOf(error)}]
  }
}

async function databaseCheck(deps: HealthDeps, demo: Demo): Promise<HealthCheck> {
  if (demo.database.mode === 'none') return {name: 'database', result: 'skipped', detail: 'database mode none: the demo has no database of its own'}
  try {
    const databases = await deps.databasesFor(demo.database.mode, demo.database)
    const reachable = await databases.isReachable(demo)
    return reachable
      ? {name: 'database', result: 'healthy', detail: `${demo.database.mode} database reachable`}
      : {name: 'database', result: 'unhealthy', detail: `${demo.database.mode} database not reachable`}
  } catch (error) {
    return {name: 'database', result: 'unknown', detail: messageOf(error)}
  }
}

/** The demo's Data API (shared-schema on a Supabase project), as its anon role sees it; none when the demo has no Data API. */
async function dataApiChecks(deps: HealthDeps, demo: Demo): Promise<HealthCheck[]> {
  if (demo.database.mode === 'none') return []
  try {
    const databases = await deps.databasesFor(demo.database.mode, demo.database)
    const answer = await databases.checkDataApi?.(demo)
    if (!answer) return []
    return [{name: 'data-api', result: answer.healthy ? 'healthy' : 'unhealthy', detail: answer.detail}]
  } catch (error) {
    return [{name: 'data-api', result: 'unknown', detail: messageOf(error)}]
  }
}

async function urlChecks(deps: HealthDeps, demo: Demo, options: HealthOptions): Promise<HealthCheck[]> {
  const targets = options.urls(demo)
  if (targets.length === 0) return [{name: 'urls', result: 'skipped', detail: 'not checked (--no-urls, or no service has a host)'}]
  return Promise.all(
    targets.map(async (target) => {
      const answer = await probeUrl(deps.prober, target.url, options.urlTimeoutMs)
      return urlCheck(target.name, target.url, answer, deps.clock.now())
    }),
  )
}

/** The problems of a set of checks, one line each ("deployment web: 0/1 available ..."). */
export function problemsOf(checks: readonly HealthCheck[]): string[] {
  return checks.filter((c) => RANK[c.result] > 0).map((c) => `${c.name}: ${c.result}: ${c.detail}`)
}

/** What `metadata.health` holds while a demo is degraded: what was wrong, and since when. */
interface RecordedHealth {
  result: HealthResult
  problems: string[]
  since: string
}

function recordedHealth(demo: Demo): RecordedHealth | undefined {
  const health = demo.metadata.health as RecordedHealth | undefined
  return health && Array.isArray(health.problems) ? health : undefined
}

/**
 * The row change the result calls for: ready → degraded when any check is degraded or unhealthy, degraded →
 * ready when every check is healthy (or skipped); nothing for another status, nor when a check is unknown.
 */
export function decideTransition(
  demo: Demo,
  checks: readonly HealthCheck[],
  context: {now: Date; actor: string},
): {to: 'degraded' | 'ready'; patch: {status: 'degraded' | 'ready'; metadata: Record<string, unknown>}; event: DemoEvent} | null {
  if (checks.some((c) => c.result === 'unknown')) return null
  const result = overallResult(checks)
  const base = {demoId: demo.id, at: context.now, actor: context.actor}
  if (demo.status === 'ready' && result !== 'healthy') {
    const problems = problemsOf(checks)
    const health: RecordedHealth = {result, problems, since: context.now.toISOString()}
    return {
      to: 'degraded',
      patch: {status: 'degraded', metadata: {...demo.metadata, health}},
      event: {...base, type: 'degraded', data: {result, problems}},
    }
  }
  if (demo.status === 'degraded' && result === 'healthy') {
    const {health, ...rest} = demo.metadata as {health?: unknown}
    const was = recordedHealth({...demo, metadata: {health}})
    const since = was ? new Date(was.since) : null
    const data = {resolved: was?.problems ?? [], ...(since ? {degradedSeconds: Math.round((context.now.getTime() - since.getTime()) / 1000)} : {})}
    return {to: 'ready', patch: {status: 'ready', metadata: rest}, event: {...base, type: 'recovered', data}}
  }
  return null
}

function unchangedNote(demo: Demo, checks: readonly HealthCheck[]): string | null {
  if (demo.status !== 'ready' && demo.status !== 'degraded') return `status left ${demo.status}: health changes only ready and degraded demos`
  if (checks.some((c) => c.result === 'unknown')) return `status left ${demo.status}: a check could not be made`
  return null
}

/**
 * Applies the transition with compare-and-set on the row as it was read; when someone else wrote first, reads
 * it once more and decides again on that row. A row that is no longer ready or degraded is left alone.
 */
async function recordTransition(deps: HealthDeps, demo: Demo, checks: readonly HealthCheck[], actor: string): Promise<DemoHealth['change']> {
  let current = demo
  for (let attempt = 0; attempt < 2; attempt++) {
    const decided = decideTransition(current, checks, {now: deps.clock.now(), actor})
    if (!decided) return {kind: 'unchanged', note: unchangedNote(current, checks)}
    try {
      await deps.store.update(current.id, current.version, decided.patch, decided.event)
      return decided.to === 'degraded' ? {kind: 'degraded'} : {kind: 'recovered'}
    } catch (error) {
      if (!(error instanceof VersionConflictError) && !(error instanceof StateTransitionError)) throw error
      const latest = await deps.store.get(current.id)
      if (!latest) return {kind: 'unchanged', note: 'the row is gone'}
      current = latest
    }
  }
  return {kind: 'unchanged', note: `status left ${current.status}: the row kept changing under us`}
}

/**
 * Checks one demo (namespace, Deployments, database, URLs), each check with its own result, and moves the row
 * ready ⇄ degraded with a `degraded` or `recovered` event that says what changed. Never throws for a check
 * that fails: it is reported as `unknown`. A demo that is not ready or degraded is checked but never changed.
 */
export async function checkDemoHealth(deps: HealthDeps, demo: Demo, options: HealthOptions): Promise<DemoHealth> {
  const [cluster, database, dataApi, urls] = await Promise.all([
    clusterChecks(deps, demo),
    databaseCheck(deps, demo),
    dataApiChecks(deps, demo),
    urlChecks(deps, demo, options),
  ])
  const checks = [...cluster, database, ...dataApi, ...urls]
  const change = await recordTransition(deps, demo, checks, options.actor)
  const latest = change.kind === 'unchanged' ? demo : ((await deps.store.get(demo.id)) ?? demo)
  return {demo: latest, result: overallResult(checks), checks, change}
}

/** Runs `task` over `items` with at most `limit` in flight; results in the order of `items`. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index] as T)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, () => worker()))
  return results
}

/** Every ready or degraded demo, checked with at most `concurrency` at a time (what the CronJob runs). */
export async function checkAllHealth(deps: HealthDeps, options: HealthOptions & {concurrency: number}): Promise<DemoHealth[]> {
  const demos: Demo[] = []
  for (let offset = 0; ; offset += 500) {
    const page = await deps.store.list({statuses: ['ready', 'degraded']}, {limit: 500, offset})
    demos.push(...page.items)
    if (page.items.length < 500) break
  }
  return mapBounded(demos, options.concurrency, (demo) => checkDemoHealth(deps, demo, options))
}

/** The URLs health GETs for a demo: each service with a host, at its health path under that host's demo URL. */
export function demoHealthUrls(
  services: Record<string, {host?: 'portal' | 'candidate' | undefined; healthPath: string}>,
  demo: Pick<Demo, 'portalUrl' | 'candidateUrl'>,
): Array<{name: string; url: string}> {
  return Object.values(services).flatMap((service) => {
    if (!service.host) return []
    const base = service.host === 'portal' ? demo.portalUrl : demo.candidateUrl
    return [{name: `url ${service.host}`, url: healthUrl(base, service.healthPath)}]
  })
}
