import type {Demo} from '../../src/core/demo.js'
import {
  EXPIRES_AT_ANNOTATION,
  INSTANCE_ANNOTATION,
  INSTANCE_LABEL,
  JANITOR_EXPIRES_ANNOTATION,
  janitorTimestamp,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAME_LABEL,
} from '../../src/core/labels.js'
import type {Clock, DemoEvent, Manifest, NewDemo, Ownership} from '../../src/core/ports.js'
import {DEFAULT_SERVICES} from '../../src/core/project-config.js'

let demoCount = 0

/**
 * The next demo id of this process: t0000001, t0000002 ... (valid ids of the real length), the same on
 * every run, so a failing test names the same rows each time. Unique within a process; every test file runs
 * in a process and against a store of its own.
 */
export function aDemoId(): string {
  demoCount += 1
  return `t${String(demoCount).padStart(7, '0')}`
}

/** A new demo row with sensible defaults; override what the test is about. */
export function aNewDemo(overrides: Partial<NewDemo> = {}): NewDemo {
  const id = overrides.id ?? aDemoId()
  const createdAt = overrides.createdAt ?? new Date('2026-11-25T12:00:00Z')
  return {
    id,
    name: null,
    namespace: `demo-${id}`,
    demoType: 'recruiting-agency',
    status: 'creating',
    portalUrl: `https://portal-${id}.demo.localhost`,
    candidateUrl: `https://candidate-${id}.demo.localhost`,
    database: {mode: 'none'},
    seedValue: 42,
    kubeContext: 'test',
    clusterId: null,
    createdBy: 'alice@example.com',
    authenticatedAs: null,
    autoCleanup: true,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 2 * 3_600_000),
    metadata: {},
    ...overrides,
  }
}

/** A demo row as the store returns it: aNewDemo plus the columns the store fills (version 3), `overrides` over both. */
export function aDemo(overrides: Partial<Demo> = {}): Demo {
  const base = aNewDemo(overrides)
  return {
    ...base,
    updatedAt: base.createdAt,
    readyAt: null,
    destroyedAt: null,
    extensionCount: 0,
    lastError: null,
    phaseTimings: {},
    version: 3,
    ...overrides,
  }
}

export function aCreatedEvent(demo: Pick<Demo, 'id' | 'createdBy' | 'createdAt'>): DemoEvent {
  return {demoId: demo.id, type: 'created', at: demo.createdAt, actor: demo.createdBy, data: {}}
}

export function fixedClock(iso: string): Clock & {set(iso: string): void; advance(ms: number): void} {
  let now = new Date(iso)
  return {
    now: () => new Date(now),
    set: (next) => {
      now = new Date(next)
    },
    advance: (ms) => {
      now = new Date(now.getTime() + ms)
    },
  }
}

export const BIG_CAPS = {perOwner: 1000, global: 100_000}

/**
 * A `services:` value for a project config that runs only these services: every built-in service not named
 * is disabled (user services merge over the built-in ones by name).
 */
export function onlyServices(services: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const disabled = Object.fromEntries(Object.keys(DEFAULT_SERVICES).map((name) => [name, {enabled: false}]))
  return {...disabled, ...services}
}

/** The labels and annotation that make an object the demo's (src/core/labels.ts). */
export function ownershipMarks(demoId: string): {labels: Record<string, string>; annotations: Record<string, string>} {
  return {labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: demoId}, annotations: {[INSTANCE_ANNOTATION]: demoId}}
}

export interface NamespaceManifestOptions {
  /** The expiry annotations; null leaves them out. */
  expiresAt?: Date | null
  labels?: Record<string, string>
}

/** The demo's Namespace as the renderer makes it: the marks, and the expiry annotations when given. */
export function aNamespaceManifest(owner: Ownership, options: NamespaceManifestOptions = {}): Manifest {
  const marks = ownershipMarks(owner.demoId)
  const expiresAt = options.expiresAt === undefined ? new Date('2026-11-25T14:00:00.000Z') : options.expiresAt
  const expiry: Record<string, string> = expiresAt
    ? {[EXPIRES_AT_ANNOTATION]: expiresAt.toISOString(), [JANITOR_EXPIRES_ANNOTATION]: janitorTimestamp(expiresAt)}
    : {}
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {name: owner.namespace, labels: {...options.labels, ...marks.labels}, annotations: {...marks.annotations, ...expiry}},
  }
}

/** A ConfigMap of the demo, with its marks. */
export function aConfigMap(owner: Ownership, name: string, data: Record<string, string> = {greeting: 'hello'}): Manifest {
  return {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: owner.namespace, ...ownershipMarks(owner.demoId)}, data}
}

/** A Deployment of the demo, with its marks, whose pods pass the restricted Pod Security level. */
export function aDeployment(owner: Ownership, name: string, replicas = 1): Manifest {
  const selector = {[NAME_LABEL]: name}
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name, namespace: owner.namespace, ...ownershipMarks(owner.demoId)},
    spec: {
      replicas,
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: selector},
        spec: {
          automountServiceAccountToken: false,
          securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: 'RuntimeDefault'}},
          containers: [{name, image: `example.com/${name}:1`, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}}}],
        },
      },
    },
  }
}
