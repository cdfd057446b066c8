import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {accessChecksFor, rulesAllow, type AccessCheck, type ResourceRule} from '../../src/adapters/kubernetes/access-review.js'
import type {Manifest} from '../../src/core/ports.js'

const deploymentsCreate: AccessCheck = {verb: 'create', group: 'apps', resource: 'deployments', namespace: 'demo-x'}

describe('rulesAllow: what a SelfSubjectRulesReview grants', () => {
  it('matches verb, group and resource exactly or by "*"', () => {
    const cases: Array<[ResourceRule, boolean]> = [
      [{verbs: ['create'], apiGroups: ['apps'], resources: ['deployments']}, true],
      [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}, true],
      [{verbs: ['get', 'create'], apiGroups: ['apps'], resources: ['*']}, true],
      [{verbs: ['get'], apiGroups: ['apps'], resources: ['deployments']}, false],
      [{verbs: ['create'], apiGroups: [''], resources: ['deployments']}, false],
      [{verbs: ['create'], apiGroups: ['apps'], resources: ['replicasets']}, false],
      [{verbs: ['create'], apiGroups: ['apps'], resources: ['deployments/scale']}, false],
      [{verbs: ['create'], resources: ['deployments']}, false],
    ]
    for (const [rule, expected] of cases) assert.equal(rulesAllow([rule], deploymentsCreate), expected, JSON.stringify(rule))
  })

  it('does not count a rule limited to resourceNames', () => {
    assert.equal(rulesAllow([{verbs: ['*'], apiGroups: ['*'], resources: ['*'], resourceNames: ['web']}], deploymentsCreate), false)
    assert.equal(rulesAllow([{verbs: ['*'], apiGroups: ['*'], resources: ['*'], resourceNames: []}], deploymentsCreate), true)
  })

  it('the core group is the empty string', () => {
    const check: AccessCheck = {verb: 'delete', group: '', resource: 'namespaces'}
    assert.equal(rulesAllow([{verbs: ['delete'], apiGroups: [''], resources: ['namespaces']}], check), true)
    assert.equal(rulesAllow([{verbs: ['delete'], apiGroups: ['apps'], resources: ['namespaces']}], check), false)
  })

  it('grants every check of a create to an admin, and names what a limited identity lacks', () => {
    const objects: Manifest[] = [
      {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'demo-x'}},
      {apiVersion: 'v1', kind: 'Service', metadata: {name: 'web', namespace: 'demo-x'}},
    ]
    const checks = accessChecksFor(objects, 'demo-x', (o) => `${o.kind.toLowerCase()}s`)
    assert.deepEqual(
      checks.filter((c) => !rulesAllow([{verbs: ['*'], apiGroups: ['*'], resources: ['*']}], c)),
      [],
    )
    const limited: ResourceRule[] = [
      {verbs: ['create', 'get', 'list', 'patch'], apiGroups: [''], resources: ['namespaces']},
      {verbs: ['*'], apiGroups: [''], resources: ['services', 'pods', 'events']},
      {verbs: ['list'], apiGroups: ['apps'], resources: ['replicasets']},
    ]
    assert.deepEqual(
      checks.filter((c) => !rulesAllow(limited, c)).map((c) => `${c.verb} ${c.resource}`),
      ['delete namespaces', 'create deployments', 'patch deployments', 'list deployments'],
    )
  })
})
