import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {CoreV1Event, V1Container, V1Deployment, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'
import {describeDeployments, type WorkloadListing} from '../../src/adapters/kubernetes/deployment-state.js'

function aDeployment(name: string, status: V1Deployment['status'] = {}, replicas = 1): V1Deployment {
  return {metadata: {name, uid: `d-${name}`, generation: 1}, spec: {replicas, selector: {}, template: {}}, status: {observedGeneration: 1, ...status}}
}

function aReplicaSet(deployment: string, status: V1ReplicaSet['status'] = {replicas: 0}): V1ReplicaSet {
  return {
    metadata: {
      name: `${deployment}-rs`,
      uid: `rs-${deployment}`,
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: `d-${deployment}`}],
    },
    status,
  }
}

function aPod(deployment: string, status: V1Pod['status']): V1Pod {
  return {
    metadata: {
      name: `${deployment}-abc12`,
      uid: `p-${deployment}`,
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deployment}-rs`, uid: `rs-${deployment}`}],
    },
    status,
  }
}

function aListing(overrides: Partial<WorkloadListing>): WorkloadListing {
  return {deployments: [], replicaSets: [], pods: [], events: [], ...overrides}
}

test('an available Deployment has no reason', () => {
  const [state] = describeDeployments(
    aListing({deployments: [aDeployment('web', {replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2}, 2)]}),
  )

  assert.deepEqual(state, {name: 'web', desired: 2, ready: 2, available: 2, pods: 2, reason: null})
})

test('from the Deployment alone, as the watch tells it: its pods counted, ready or not, and a quota refusal from its own condition', () => {
  const failure = {type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-x" is forbidden: exceeded quota: demo-quota'}
  const [starting, refused] = describeDeployments(
    aListing({
      deployments: [
        aDeployment('a-starting', {replicas: 2, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 2}, 3),
        aDeployment('b-refused', {replicas: 0, conditions: [failure]}, 1),
      ],
    }),
  )

  assert.deepEqual({pods: starting?.pods, ready: starting?.ready, desired: starting?.desired}, {pods: 2, ready: 1, desired: 3})
  assert.equal(refused?.pods, 0)
  assert.match(refused?.reason ?? '', /exceeded quota/)
})

test('a ReplicaSet that cannot create pods explains the Deployment first', () => {
  const failure = {
    type: 'ReplicaFailure',
    status: 'True',
    reason: 'FailedCreate',
    message: 'pods "web-x" is forbidden: exceeded quota: demo-quota, requested: requests.cpu=100m',
  }

  const [state] = describeDeployments(
    aListing({deployments: [aDeployment('web')], replicaSets: [aReplicaSet('web', {replicas: 0, conditions: [failure]})]}),
  )

  assert.match(state?.reason ?? '', /^pods "web-x" is forbidden: exceeded quota: demo-quota/)
})

test('a container waiting in ImagePullBackOff or CrashLoopBackOff is named with its pod', () => {
  const pulling = aPod('web', {
    containerStatuses: [
      {
        name: 'web',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {waiting: {reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"'}},
      },
    ],
  })
  const crashing = aPod('api', {
    containerStatuses: [{name: 'api', image: 'y', imageID: '', ready: false, restartCount: 5, state: {waiting: {reason: 'CrashLoopBackOff'}}}],
  })

  const states = describeDeployments(
    aListing({
      deployments: [aDeployment('web'), aDeployment('api')],
      replicaSets: [aReplicaSet('web'), aReplicaSet('api')],
      pods: [pulling, crashing],
    }),
  )

  assert.deepEqual(
    states.map((s) => s.reason),
    ['pod api-abc12: CrashLoopBackOff', 'pod web-abc12: ImagePullBackOff: Back-off pulling image "x"'],
  )
})

test("an unschedulable pod is reported with the scheduler's message", () => {
  const pending = aPod('web', {
    phase: 'Pending',
    conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.'}],
  })

  const [state] = describeDeployments(aListing({deployments: [aDeployment('web')], replicaSets: [aReplicaSet('web')], pods: [pending]}))

  assert.equal(state?.reason, 'pod web-abc12 is not scheduled: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.')
})

test('without a pod problem, the Progressing condition and then the latest Warning event explain it', () => {
  const stuck = aDeployment('web', {
    conditions: [
      {type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-rs" has timed out progressing.'},
    ],
  })
  const events: CoreV1Event[] = [
    {
      metadata: {},
      involvedObject: {uid: 'rs-api'},
      type: 'Warning',
      reason: 'FailedCreate',
      message: 'old',
      lastTimestamp: new Date('2026-11-25T10:00:00Z'),
    },
    {
      metadata: {},
      involvedObject: {uid: 'rs-api'},
      type: 'Warning',
      reason: 'FailedCreate',
      message: 'serviceaccount "x" not found',
      lastTimestamp: new Date('2026-11-25T11:00:00Z'),
    },
  ]

  const states = describeDeployments(
    aListing({deployments: [stuck, aDeployment('api')], replicaSets: [aReplicaSet('web'), aReplicaSet('api')], events}),
  )

  assert.deepEqual(
    states.map((s) => s.reason),
    ['FailedCreate: serviceaccount "x" not found', 'ProgressDeadlineExceeded: ReplicaSet "web-rs" has timed out progressing.'],
  )
})

test('with nothing to say yet, the reason counts the available replicas', () => {
  const [state] = describeDeployments(aListing({deployments: [aDeployment('web', {availableReplicas: 1}, 3)]}))

  assert.equal(state?.reason, '1 of 3 replicas available')
})

test('an available Deployment reports the pods that restarted and when a container last terminated', () => {
  const finishedAt = new Date('2026-11-25T11:50:00Z')
  const restarted = aPod('web', {
    containerStatuses: [
      {name: 'app', image: 'x', imageID: '', ready: true, restartCount: 3, lastState: {terminated: {exitCode: 1, finishedAt}}},
      {name: 'side', image: 'x', imageID: '', ready: true, restartCount: 1},
    ],
  })
  const [state] = describeDeployments(
    aListing({
      deployments: [aDeployment('web', {replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1})],
      replicaSets: [aReplicaSet('web')],
      pods: [restarted],
    }),
  )
  assert.equal(state?.reason, null)
  assert.deepEqual(state?.restarts, [{pod: 'web-abc12', count: 4, lastAt: finishedAt}])
})

// The deployment controller writes a deployment's status after its ReplicaSet's controller has counted the pods:
// on a busy controller manager seconds later. These deployments have not been seen by it at all yet.

const TEMPLATE: {metadata: {labels: Record<string, string>}; spec: {containers: V1Container[]}} = {
  metadata: {labels: {'app.kubernetes.io/name': 'web'}},
  spec: {containers: [{name: 'web', image: 'registry.example/web:1', ports: [{containerPort: 8080, protocol: 'TCP'}]}]},
}

function anUnobservedDeployment(overrides: {replicas?: number; minReadySeconds?: number; paused?: boolean; generation?: number} = {}): V1Deployment {
  const {replicas = 2, generation = 1, ...spec} = overrides
  return {
    metadata: {name: 'web', uid: 'd-web', generation},
    spec: {replicas, selector: {matchLabels: {'app.kubernetes.io/name': 'web'}}, template: structuredClone(TEMPLATE), ...spec},
    status: {},
  }
}

/** A ReplicaSet as the deployment controller makes it: its template the deployment's plus the pod-template-hash label. */
function aControlledReplicaSet(
  hash: string,
  counts: {replicas: number; available: number; observed?: boolean; minReadySeconds?: number; specReplicas?: number},
  template = TEMPLATE,
): V1ReplicaSet {
  const made = structuredClone(template)
  made.metadata.labels = {...made.metadata.labels, 'pod-template-hash': hash}
  return {
    metadata: {
      name: `web-${hash}`,
      uid: `rs-${hash}`,
      generation: 1,
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-web', controller: true}],
    },
    spec: {
      replicas: counts.specReplicas ?? counts.replicas,
      selector: {},
      template: made,
      ...(counts.minReadySeconds === undefined ? {} : {minReadySeconds: counts.minReadySeconds}),
    },
    status: {
      replicas: counts.replicas,
      readyReplicas: counts.available,
      availableReplicas: counts.available,
      ...(counts.observed === false ? {} : {observedGeneration: 1}),
    },
  }
}

function stateOf(deployment: V1Deployment, replicaSets: V1ReplicaSet[]) {
  const [state] = describeDeployments(aListing({deployments: [deployment], replicaSets}))
  return state
}

test('a deployment whose one current ReplicaSet has all its pods available is available before its own status says so', () => {
  const state = stateOf(anUnobservedDeployment(), [aControlledReplicaSet('5d8f', {replicas: 2, available: 2})])

  assert.deepEqual(state, {name: 'web', desired: 2, ready: 2, available: 2, pods: 2, reason: null})
})

test('the ReplicaSet counts too while it waits: pods it has, and how many are ready', () => {
  const state = stateOf(anUnobservedDeployment(), [aControlledReplicaSet('5d8f', {replicas: 2, available: 1})])

  assert.deepEqual({pods: state?.pods, ready: state?.ready, available: state?.available}, {pods: 2, ready: 1, available: 1})
  assert.equal(state?.reason, '1 of 2 replicas available')
})

test('a ReplicaSet does not make its deployment available when it is not the one current and alone', async (t) => {
  const other = {...TEMPLATE, spec: {containers: [{...TEMPLATE.spec.containers[0]!, image: 'registry.example/web:2'}]}}
  const foreign = aControlledReplicaSet('5d8f', {replicas: 2, available: 2})
  foreign.metadata!.ownerReferences = [{apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-other', controller: true}]
  const notController = aControlledReplicaSet('5d8f', {replicas: 2, available: 2})
  notController.metadata!.ownerReferences = [{...notController.metadata!.ownerReferences![0]!, controller: false}]
  const cases: [string, V1Deployment, V1ReplicaSet[]][] = [
    [
      'another template (the deployment changed and its new ReplicaSet is not made yet)',
      anUnobservedDeployment({generation: 2}),
      [aControlledReplicaSet('5d8f', {replicas: 2, available: 2}, other)],
    ],
    ['controlled by another deployment', anUnobservedDeployment(), [foreign]],
    ['owned but not controlled', anUnobservedDeployment(), [notController]],
    [
      'an old ReplicaSet still has pods',
      anUnobservedDeployment(),
      [
        aControlledReplicaSet('5d8f', {replicas: 2, available: 2}),
        aControlledReplicaSet('77aa', {replicas: 1, available: 1, specReplicas: 0}, other),
      ],
    ],
    ['its controller has not seen it yet', anUnobservedDeployment(), [aControlledReplicaSet('5d8f', {replicas: 2, available: 2, observed: false})]],
    [
      'it asks for other replicas (the deployment was scaled)',
      anUnobservedDeployment({replicas: 3, generation: 2}),
      [aControlledReplicaSet('5d8f', {replicas: 3, available: 3, specReplicas: 2})],
    ],
    [
      'another minReadySeconds',
      anUnobservedDeployment({minReadySeconds: 10, generation: 2}),
      [aControlledReplicaSet('5d8f', {replicas: 2, available: 2})],
    ],
    ['the deployment is paused', anUnobservedDeployment({paused: true}), [aControlledReplicaSet('5d8f', {replicas: 2, available: 2})]],
    [
      'two ReplicaSets with its template',
      anUnobservedDeployment(),
      [aControlledReplicaSet('5d8f', {replicas: 2, available: 2}), aControlledReplicaSet('6e9a', {replicas: 0, available: 0})],
    ],
  ]
  for (const [name, deployment, replicaSets] of cases) {
    await t.test(name, () => {
      assert.notEqual(stateOf(deployment, replicaSets)?.reason, null)
    })
  }
})

test('an old ReplicaSet scaled to zero with no pods left does not hold the current one back', () => {
  const old = aControlledReplicaSet(
    '77aa',
    {replicas: 0, available: 0},
    {...TEMPLATE, metadata: {labels: {...TEMPLATE.metadata.labels, tier: 'old'}}},
  )

  const state = stateOf(anUnobservedDeployment({generation: 2}), [old, aControlledReplicaSet('5d8f', {replicas: 2, available: 2})])

  assert.equal(state?.reason, null)
})

test('a watch event that brings a deployment with another template is compared again, whatever was seen before', () => {
  // The same ReplicaSet object across three descriptions, as a watch keeps the objects no event replaced.
  const rs = aControlledReplicaSet('5d8f', {replicas: 2, available: 2})
  const deployment = anUnobservedDeployment()
  const changed = anUnobservedDeployment({generation: 2})
  changed.spec!.template.spec!.containers[0]!.image = 'registry.example/web:2'

  assert.equal(stateOf(deployment, [rs])?.reason, null)
  assert.notEqual(stateOf(changed, [rs])?.reason, null, 'the new template is not the ReplicaSet’s')
  assert.equal(stateOf(deployment, [rs])?.reason, null)
})
