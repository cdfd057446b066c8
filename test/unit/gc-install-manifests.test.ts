import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {UsageError} from '../../src/core/errors.js'
import {
  ACTIVE_DEADLINE_SECONDS,
  clusterObjectName,
  gcUsername,
  parseDatabaseSecret,
  parseImage,
  parseInstallNamespace,
  renderGcInstall,
  type GcInstallOptions,
} from '../../src/core/gc-install-manifests.js'
import {GC_INSTALLATION_LABEL, MANAGED_BY_LABEL} from '../../src/core/labels.js'
import type {Manifest} from '../../src/core/ports.js'

function anInstall(overrides: Partial<GcInstallOptions> = {}): GcInstallOptions {
  return {
    namespace: 'demo-system',
    image: 'registry.example.com/demo-cli:1.2.3',
    schedule: '*/15 * * * *',
    databaseSecret: {name: 'demo-state', key: 'url'},
    healthSchedule: null,
    ...overrides,
  }
}

function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind)
}

function only(manifests: Manifest[], kind: string): Manifest & Record<string, unknown> {
  const found = byKind(manifests, kind)
  assert.equal(found.length, 1, `one ${kind}`)
  return found[0] as Manifest & Record<string, unknown>
}

describe('renderGcInstall', () => {
  it('renders the policy before any right and the CronJob last', () => {
    const kinds = renderGcInstall(anInstall()).map((m) => m.kind)
    assert.deepEqual(kinds, [
      'Namespace',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'CronJob',
    ])
  })

  it('labels every object with the installation namespace and never with the demo managed-by mark', () => {
    for (const m of renderGcInstall(anInstall({namespace: 'ops', healthSchedule: '@hourly'}))) {
      assert.equal(m.metadata.labels?.[GC_INSTALLATION_LABEL], 'ops', `${m.kind} ${m.metadata.name}`)
      assert.equal(m.metadata.labels?.[MANAGED_BY_LABEL], undefined, `${m.kind} must not look like a demo`)
    }
  })

  it('grants namespaces get/list/watch/delete/patch, lists of workloads only, and no Secret or write elsewhere', () => {
    const rules = only(renderGcInstall(anInstall()), 'ClusterRole').rules as Array<{apiGroups: string[]; resources: string[]; verbs: string[]}>
    assert.deepEqual(rules, [
      {apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'delete', 'patch']},
      {apiGroups: [''], resources: ['pods', 'events'], verbs: ['list']},
      {apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['list']},
    ])
    const flat = JSON.stringify(rules)
    assert.doesNotMatch(flat, /secrets|\*|create|update"/)
  })

  it('binds the role to the ServiceAccount of the installation', () => {
    const binding = only(renderGcInstall(anInstall({namespace: 'ops'})), 'ClusterRoleBinding')
    assert.deepEqual(binding.subjects, [{kind: 'ServiceAccount', name: 'demo-gc', namespace: 'ops'}])
    assert.deepEqual(binding.roleRef, {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterObjectName('ops')})
  })

  it('makes the admission policy match only the gc ServiceAccount deleting or updating namespaces, and deny', () => {
    const manifests = renderGcInstall(anInstall())
    const spec = only(manifests, 'ValidatingAdmissionPolicy').spec as Record<string, unknown>
    assert.equal(spec.failurePolicy, 'Fail')
    assert.match(JSON.stringify(spec.matchConditions), new RegExp(gcUsername('demo-system')))
    assert.match(JSON.stringify(spec.matchConstraints), /"operations":\["DELETE","UPDATE"\],"resources":\["namespaces"\]/)
    assert.deepEqual((only(manifests, 'ValidatingAdmissionPolicyBinding').spec as Record<string, unknown>).validationActions, ['Deny'])
  })

  it('runs `demo gc --json` once at a time, without retries, with the database URL from the named Secret', () => {
    const cronJob = only(renderGcInstall(anInstall({schedule: '0 * * * *'})), 'CronJob')
    const spec = cronJob.spec as {
      schedule: string
      concurrencyPolicy: string
      startingDeadlineSeconds: number
      jobTemplate: {spec: {backoffLimit: number; activeDeadlineSeconds: number; template: {spec: Record<string, unknown>}}}
    }
    assert.equal(spec.schedule, '0 * * * *')
    assert.equal(spec.concurrencyPolicy, 'Forbid')
    assert.ok(spec.startingDeadlineSeconds > 0)
    assert.equal(spec.jobTemplate.spec.backoffLimit, 0)
    assert.equal(spec.jobTemplate.spec.activeDeadlineSeconds, ACTIVE_DEADLINE_SECONDS)
    const pod = spec.jobTemplate.spec.template.spec as {
      serviceAccountName: string
      containers: Array<{image: string; args: string[]; env: unknown[]}>
    }
    assert.equal(pod.serviceAccountName, 'demo-gc')
    assert.equal(pod.containers[0]?.image, 'registry.example.com/demo-cli:1.2.3')
    assert.deepEqual(pod.containers[0]?.args, ['gc', '--json'])
    assert.deepEqual(pod.containers[0]?.env[0], {name: 'DEMO_DATABASE_URL', valueFrom: {secretKeyRef: {name: 'demo-state', key: 'url'}}})
  })

  it('adds a `demo health --all --json` CronJob with --health', () => {
    const cronJobs = byKind(renderGcInstall(anInstall({healthSchedule: '*/5 * * * *'})), 'CronJob')
    assert.deepEqual(
      cronJobs.map((c) => c.metadata.name),
      ['demo-gc', 'demo-health'],
    )
    assert.match(JSON.stringify(cronJobs[1]), /"args":\["health","--all","--json"\]/)
  })
})

describe('gc install input', () => {
  it('reads --database-secret as name/key', () =>
    assert.deepEqual(parseDatabaseSecret('demo-state/DATABASE_URL'), {name: 'demo-state', key: 'DATABASE_URL'}))
  for (const bad of ['demo-state', 'demo-state/', '/url', 'a/b/c', 'Demo_State/url', 'demo-state/has space']) {
    it(`refuses --database-secret "${bad}"`, () => assert.throws(() => parseDatabaseSecret(bad), UsageError))
  }
  for (const bad of ['Demo', 'demo_system', '-demo', 'a'.repeat(64), '']) {
    it(`refuses --namespace "${bad}"`, () => assert.throws(() => parseInstallNamespace(bad), UsageError))
  }
  it('refuses an image with whitespace', () => assert.throws(() => parseImage('demo cli'), UsageError))
})
