import {assertSameCluster, assertSameContext, type Demo} from './demo.js'
import {UsageError} from './errors.js'
import type {Cluster} from './ports.js'

/**
 * Connects to the cluster a demo lives in: the context it was created in; when this kubeconfig has no such
 * context (a laptop's name for the cluster CI calls `ci`) and the row records the cluster's identity, the
 * current context, which assertDemoCluster then checks by identity. Rows without an identity keep the old
 * rule: their context must exist.
 */
export async function connectDemoCluster(clusterFor: (kubeContext: string | null) => Promise<Cluster>, demo: Demo): Promise<Cluster> {
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
