import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Context} from './context.js'
import type {Package} from './package.js'
import {log, tail} from './proc.js'

/** Every demo the benchmarks create has this owner, so leftovers can be found by annotation. */
export const BENCH_OWNER = 'demo-bench@example.invalid'
export const DEMO_TYPE = 'startup'
const CREATED_BY_ANNOTATION = 'demo.splits.network/created-by'

export interface CreateOutcome {
  ms: number
  ok: boolean
  id?: string | undefined
  namespace?: string | undefined
  status?: string | undefined
  /** The CLI's own phase timings (seconds), when it printed them. */
  phaseTotalS?: number | undefined
  /** Every phase timing it printed (seconds), by name (record, namespace, ..., wait, total). */
  phases: Record<string, number>
  stderr: string
  error?: string | undefined
  /** CPU (user + system) and peak RSS of the process, from /usr/bin/time. */
  cpuMs: number
  maxRssMiB: number
}

/** Built-in defaults except the live-demo caps (3 per owner, 50 overall), which benchmarks keeping many stacks up exceed. */
export const BENCH_CONFIG = 'limits:\n  perOwner: 100\n  global: 100\n'

/** The environment of every demo process: the scratch state DB, the test cluster, the bench owner, raised caps. */
export async function demoEnv(ctx: Context, databaseUrl: string): Promise<NodeJS.ProcessEnv> {
  const {kubeconfig} = await ctx.cluster()
  const config = join(ctx.workDir, 'demo.bench.yaml')
  if (!existsSync(config)) writeFileSync(config, BENCH_CONFIG)
  return {DEMO_DATABASE_URL: databaseUrl, KUBECONFIG: kubeconfig, DEMO_OWNER: BENCH_OWNER, DEMO_CONFIG: config}
}

interface CreateJson {
  id?: string
  namespace?: string
  status?: string
  phaseTimings?: Record<string, number> & {total?: number}
  error?: {code?: string; message?: string}
}

/** `demo create --type startup --json --wait-timeout 300s`, timed; the namespace is recorded for cleanup. */
export async function demoCreate(ctx: Context, env: NodeJS.ProcessEnv, pkg?: Package): Promise<CreateOutcome> {
  const r = await ctx.demo(['create', '--type', DEMO_TYPE, '--json', '--wait-timeout', '300s'], env, {timeoutMs: 420_000, pkg})
  let out: CreateJson = {}
  try {
    out = JSON.parse(r.stdout) as CreateJson
  } catch {
    // not JSON: reported below
  }
  if (out.namespace) ctx.namespaces.add(out.namespace)
  const ok = r.code === 0 && out.status === 'ready'
  const error = ok ? undefined : out.error ? `${out.error.code}: ${out.error.message}` : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 3)}`
  return {
    ms: r.ms,
    ok,
    id: out.id,
    namespace: out.namespace,
    status: out.status,
    phaseTotalS: out.phaseTimings?.total,
    phases: out.phaseTimings ?? {},
    stderr: r.stderr,
    error,
    cpuMs: r.cpuMs,
    maxRssMiB: r.maxRssMiB,
  }
}

/** `demo create --dry-run`: the YAML of every manifest (Namespace first) and the namespace it names. */
export async function dryRun(ctx: Context, env: NodeJS.ProcessEnv): Promise<{file: string; namespace: string}> {
  const r = await ctx.demo(['create', '--type', DEMO_TYPE, '--dry-run'], env)
  if (r.code !== 0) throw new Error(`demo create --dry-run exited ${r.code}: ${tail(r.stderr)}`)
  const namespace = /^kind: Namespace\nmetadata:\n {2}name: ([a-z0-9-]+)$/m.exec(r.stdout)?.[1]
  if (!namespace) throw new Error('demo create --dry-run printed no Namespace first')
  const file = join(ctx.workDir, `${namespace}.yaml`)
  writeFileSync(file, r.stdout)
  return {file, namespace}
}

export interface KubectlOutcome {
  ms: number
  applyMs: number
  waitMs: number
  ok: boolean
  error?: string | undefined
  /** CPU of both kubectl processes together, and the larger of their peak RSS. */
  cpuMs: number
  maxRssMiB: number
}

/** The peer of `demo create`: `kubectl apply --server-side -f <manifests>` then `kubectl wait … Available`. */
export async function kubectlCreate(ctx: Context, manifests: {file: string; namespace: string}): Promise<KubectlOutcome> {
  ctx.namespaces.add(manifests.namespace)
  const apply = await ctx.kubectl(['apply', '--server-side', '-f', manifests.file], {timeoutMs: 300_000})
  if (apply.code !== 0)
    return {
      ms: apply.ms,
      applyMs: apply.ms,
      waitMs: 0,
      ok: false,
      error: `apply: ${tail(apply.stderr, 3)}`,
      cpuMs: apply.cpuMs,
      maxRssMiB: apply.maxRssMiB,
    }
  const wait = await ctx.kubectl(['wait', '--for=condition=Available', 'deployment', '--all', '-n', manifests.namespace, '--timeout=300s'], {
    timeoutMs: 330_000,
  })
  return {
    ms: apply.ms + wait.ms,
    applyMs: apply.ms,
    waitMs: wait.ms,
    ok: wait.code === 0,
    error: wait.code === 0 ? undefined : `wait: ${tail(wait.stderr, 3)}`,
    cpuMs: apply.cpuMs + wait.cpuMs,
    maxRssMiB: Math.max(apply.maxRssMiB, wait.maxRssMiB),
  }
}

/** Deletes namespaces (all at once, waiting) and forgets them. */
export async function deleteNamespaces(ctx: Context, names: string[]): Promise<void> {
  if (names.length === 0) return
  log(`deleting ${names.length} namespace(s)`)
  const r = await ctx.kubectl(['delete', 'namespace', '--ignore-not-found', '--wait=true', '--timeout=300s', ...names], {timeoutMs: 330_000})
  if (r.code !== 0) log(`warning: ${tail(r.stderr, 3)}`)
  for (const n of names) ctx.namespaces.delete(n)
}

/** Namespaces of demos owned by the bench that are still there (e.g. from a killed run). */
export async function leftoverNamespaces(ctx: Context): Promise<string[]> {
  const r = await ctx.kubectl(['get', 'namespaces', '-l', 'app.kubernetes.io/managed-by=demo-cli', '-o', 'json'])
  if (r.code !== 0) return []
  const items = (JSON.parse(r.stdout) as {items: Array<{metadata: {name: string; annotations?: Record<string, string>}; status?: {phase?: string}}>})
    .items
  return items
    .filter((n) => n.metadata.annotations?.[CREATED_BY_ANNOTATION] === BENCH_OWNER && n.status?.phase !== 'Terminating')
    .map((n) => n.metadata.name)
}
