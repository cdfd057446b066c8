import type {Demo} from './demo.js'
import type {Cluster, DeploymentState} from './ports.js'

/** What the cluster says of a demo whose row is still `creating` (a --no-wait create, or one that was killed). */
export type CreatingReadiness =
  | {kind: 'not-creating'}
  | {kind: 'unknown'; reason: string}
  | {kind: 'read'; deployments: DeploymentState[]; available: number; total: number; next: string}

function nextStep(demo: Pick<Demo, 'id'>, available: number, total: number): string {
  if (total > 0 && available === total) {
    return `Every deployment is Available, but the create was not waited for (--no-wait) or was interrupted, so the row still says creating and counts against the limits. \`demo destroy ${demo.id}\` removes it.`
  }
  return `Still coming up (${available}/${total} deployments Available). If its create was interrupted, \`demo destroy ${demo.id}\` removes it.`
}

/**
 * The live readiness of a `creating` demo, read from its cluster; `not-creating` for any other status. Never
 * throws: a cluster that cannot be reached is reported as `unknown` with the reason (get is read-only).
 */
export async function readCreatingReadiness(
  demo: Pick<Demo, 'id' | 'status' | 'namespace'>,
  connect: () => Promise<Cluster>,
): Promise<CreatingReadiness> {
  if (demo.status !== 'creating') return {kind: 'not-creating'}
  try {
    const deployments = await (await connect()).deployments(demo.namespace)
    const available = deployments.filter((d) => d.reason === null && d.available >= d.desired).length
    return {kind: 'read', deployments, available, total: deployments.length, next: nextStep(demo, available, deployments.length)}
  } catch (error) {
    return {kind: 'unknown', reason: error instanceof Error ? error.message : String(error)}
  }
}
