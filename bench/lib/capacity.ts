import {join} from 'node:path'
import type {Context} from './context.js'
import {clusterEnv, CLUSTER_NAME, REPO} from './env.js'
import {log, runOk} from './proc.js'

/** What one demo takes of the cluster: pods and the requests its quota defaults give them. */
export interface DemoFootprint {
  pods: number
  cpuMillis: number
  memoryMiB: number
}

/** The built-in stack: six services, one replica each, 100m CPU and 128Mi requested per pod (templates/namespace.yaml). */
export const BUILT_IN_DEMO: DemoFootprint = {pods: 6, cpuMillis: 600, memoryMiB: 768}

/** Pods per kwok node of the test bed (test/cluster/up.sh). */
const PODS_PER_NODE = 110

interface Room {
  pods: number
  cpuMillis: number
  memoryMiB: number
}

/** A Kubernetes quantity of CPU in millicores ("100m", "2") or of memory in MiB ("128Mi", "1Gi", bytes). */
export function millicores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000
}

export function mebibytes(quantity: string): number {
  const units: Record<string, number> = {Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1000 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20}
  const m = /^(\d+(?:\.\d+)?)([KMGT]i|[kMG])?$/.exec(quantity)
  if (!m) return Number.NaN
  return Number(m[1]) * (m[2] ? (units[m[2]] ?? Number.NaN) : 1 / 2 ** 20)
}

interface NodeList {
  items: Array<{
    spec?: {unschedulable?: boolean}
    status?: {allocatable?: Record<string, string>; conditions?: Array<{type: string; status: string}>}
  }>
}
interface PodList {
  items: Array<{spec?: {containers?: Array<{resources?: {requests?: Record<string, string>}}>}}>
}

/** Free room on the Ready, schedulable nodes: allocatable minus what the pods that are not finished hold. */
export async function freeRoom(ctx: Context): Promise<Room> {
  const nodes = JSON.parse((await ctx.kubectl(['get', 'nodes', '-o', 'json'])).stdout || '{"items":[]}') as NodeList
  const pods = JSON.parse(
    (await ctx.kubectl(['get', 'pods', '-A', '-o', 'json', '--field-selector=status.phase!=Succeeded,status.phase!=Failed'])).stdout ||
      '{"items":[]}',
  ) as PodList
  const room: Room = {pods: 0, cpuMillis: 0, memoryMiB: 0}
  for (const node of nodes.items) {
    const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    if (!ready || node.spec?.unschedulable) continue
    const a = node.status?.allocatable ?? {}
    room.pods += Number(a.pods ?? 0)
    room.cpuMillis += millicores(a.cpu ?? '0')
    room.memoryMiB += mebibytes(a.memory ?? '0')
  }
  for (const pod of pods.items) {
    room.pods -= 1
    for (const c of pod.spec?.containers ?? []) {
      room.cpuMillis -= millicores(c.resources?.requests?.cpu ?? '0')
      room.memoryMiB -= mebibytes(c.resources?.requests?.memory ?? '0')
    }
  }
  return room
}

/** The shortfall of `room` for `demos` demos, as a sentence per resource; empty when they fit. */
export function shortfall(room: Room, demos: number, footprint: DemoFootprint): string[] {
  const need = {pods: demos * footprint.pods, cpuMillis: demos * footprint.cpuMillis, memoryMiB: demos * footprint.memoryMiB}
  const missing: string[] = []
  if (room.pods < need.pods) missing.push(`${need.pods} pods (room for ${Math.max(0, room.pods)})`)
  if (room.cpuMillis < need.cpuMillis) missing.push(`${need.cpuMillis / 1000} CPU requested (room for ${Math.max(0, room.cpuMillis) / 1000})`)
  if (room.memoryMiB < need.memoryMiB)
    missing.push(`${Math.round(need.memoryMiB)} MiB requested (room for ${Math.max(0, Math.round(room.memoryMiB))})`)
  return missing
}

/** Fake nodes enough for `demos` demos on top of what runs now, plus one spare. */
export function nodesFor(demos: number, footprint: DemoFootprint, podsRunning: number): number {
  return Math.ceil((demos * footprint.pods + podsRunning) / PODS_PER_NODE) + 1
}

/**
 * Makes room for `demos` demos before a benchmark starts: asks the test bed for enough fake nodes
 * (cluster:up with DEMO_CLUSTER_NODES, which only ever adds), then checks the free room and throws at once,
 * naming the numbers and the command to run, when they would not fit (instead of timing out on Pending pods).
 */
export async function ensureCapacity(ctx: Context, demos: number, footprint: DemoFootprint = BUILT_IN_DEMO): Promise<Room> {
  await ctx.cluster()
  const before = await freeRoom(ctx)
  if (shortfall(before, demos, footprint).length > 0) {
    const running = (await ctx.kubectl(['get', 'pods', '-A', '-o', 'name'])).stdout.split('\n').filter(Boolean).length
    const nodes = nodesFor(demos, footprint, running)
    log(`capacity: ${demos} demos need more room; asking the test bed for ${nodes} fake nodes`)
    await runOk('bash', [join(REPO, 'test/cluster/up.sh')], {timeoutMs: 10 * 60_000, env: {...clusterEnv(), DEMO_CLUSTER_NODES: String(nodes)}})
  }
  const room = await freeRoom(ctx)
  const missing = shortfall(room, demos, footprint)
  if (missing.length > 0) {
    throw new Error(
      `capacity: ${demos} demos need ${missing.join(', ')} on cluster "${CLUSTER_NAME}". Register more fake nodes: DEMO_CLUSTER_NAME=${CLUSTER_NAME} DEMO_CLUSTER_NODES=${nodesFor(demos, footprint, 0) + 2} npm run cluster:up`,
    )
  }
  log(`capacity: room for ${demos} demos (${room.pods} pods, ${room.cpuMillis / 1000} CPU free)`)
  return room
}
