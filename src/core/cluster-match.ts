import {assertSameCluster, assertSameContext, type Demo} from './demo.js'
import {UsageError} from './errors.js'
import type {Cluster} from './ports.js'

/**
 * Connects to the cluster a demo lives in: the context it was created in; when this kubeconfig has no such
 * context (a laptop's name for the cluster CI calls `ci`) and the row records the cluster's identity, the
 * current context, which assertDemoCluster then checks by identity. Rows without an identity keep the old
 * rule: their context must exist. A row with an identity has it read at once, so the read runs beside what the
 * caller asks next (the caller's identity, for authorizeCaller) and assertDemoCluster finds it done.
 */
export async function connectDemoCluster(clusterFor: (kubeContext: string | null) => Promise<Cluster>, demo: Demo): Promise<Cluster> {
  const cluster = await connectByContext(clusterFor, demo)
  // A failure here is assertDemoCluster's to report: identity() reads again after one.
  if (demo.clusterId) cluster.identity().catch(() => {})
  return cluster
}

async function connectByContext(clusterFor: (kubeContext: string | null) => Promise<Cluster>, demo: Demo): Promise<Cluster> {
  try {
    return await clusterFor(demo.kubeContext)
  } catch (error) {
    if (!(error instanceof UsageError) || !demo.clusterId || demo.kubeContext === null) throw error
    return clusterFor(null)
  }
}

/**
 * Refuses a cluster the demo does not live in: WrongClusterError by identity when the row records one (the
 * context name is then only a hint), else UsageError by context name. `rerun` is the command to suggest.
 */
export async function assertDemoCluster(cluster: Cluster, demo: Demo, rerun: string): Promise<void> {
  if (!demo.clusterId) {
    assertSameContext(demo, cluster.contextName(), rerun)
    return
  }
  assertSameCluster(demo, {context: cluster.contextName(), clusterId: await cluster.identity()}, rerun)
}
