import {clusterContract} from '../contract/cluster.contract.js'
import {systemSleeper} from '../../src/adapters/sleeper.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {aDemoId} from '../fakes/builders.js'

clusterContract('in-memory fake', async () => {
  // Real time for the waits of its watches: the contract's waits are real.
  const cluster = new FakeCluster('contract-test').useSleeper(systemSleeper)
  return {
    cluster,
    context: 'contract-test',
    username: 'demo-testbed-admin',
    namespaceLabels: {},
    settleMs: 0,
    newOwner: () => {
      const demoId = aDemoId()
      return {demoId, namespace: `ctr-${demoId}`}
    },
    createForeignNamespace: async (name, metadata) => {
      cluster.addNamespace(name, metadata)
    },
    readNamespace: async (name) => {
      const ns = cluster.namespaces.get(name)
      return ns && {labels: {...ns.labels}, annotations: {...ns.annotations}, terminating: ns.terminating}
    },
    readObject: async (namespace, kind, name) => {
      const found = cluster.namespaces.get(namespace)?.objects.find((o) => o.kind === kind && o.metadata.name === name)
      return found && structuredClone(found)
    },
    holdDeletion: async (namespace, finalizer) => {
      cluster.addFinalizer(namespace, finalizer)
      return async () => {
        if (cluster.namespaces.has(namespace)) cluster.removeFinalizer(namespace, finalizer)
      }
    },
    neverReady: (deployment) => {
      cluster.setDeployment(deployment.metadata.namespace ?? '', deployment.metadata.name, {available: false})
      return deployment
    },
    close: async () => {},
  }
})
