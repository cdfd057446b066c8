import {UsageError} from './errors.js'
import {
  COMPONENT_LABEL,
  GC_INSTALLATION_LABEL,
  INSTANCE_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAME_LABEL,
  PART_OF_LABEL,
  podSecurityLabel,
  podSecurityVersionLabel,
} from './labels.js'
import type {Manifest} from './ports.js'

/**
 * What `demo gc install` applies to a cluster, rendered here (pure) so `--dry-run`, the apply and the tests see
 * the same objects. Apply order is the array order: the admission policy is in force before the ServiceAccount
 * gets any right, and the CronJobs come last, once everything they need exists.
 */
export interface GcInstallOptions {
  namespace: string
  image: string
  schedule: string
  databaseSecret: SecretKeyRef
  /** The schedule of a second CronJob running `demo health --all --json`; null: none. */
  healthSchedule: string | null
}

export interface SecretKeyRef {
  name: string
  key: string
}

export const DEFAULT_GC_NAMESPACE = 'demo-system'
export const DEFAULT_GC_SCHEDULE = '*/15 * * * *'
export const DEFAULT_HEALTH_SCHEDULE = '*/5 * * * *'
export const GC_SERVICE_ACCOUNT = 'demo-gc'
export const GC_CRONJOB = 'demo-gc'
export const HEALTH_CRONJOB = 'demo-health'
/** A Job that has not finished in 10 minutes is killed, so a hung run cannot hold back the next ones (concurrencyPolicy Forbid). */
export const ACTIVE_DEADLINE_SECONDS = 600
/** A run missed by more than 5 minutes (controller down) is skipped, not started late. */
export const STARTING_DEADLINE_SECONDS = 300
/** The uid of the `node` user of the node:24-slim image (Dockerfile); runAsNonRoot needs a number. */
export const IMAGE_UID = 1000

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/

/** The user name the API server gives requests made with the gc ServiceAccount's token. */
export function gcUsername(namespace: string): string {
  return `system:serviceaccount:${namespace}:${GC_SERVICE_ACCOUNT}`
}

/** Name of the cluster-scoped objects (ClusterRole, its binding, the admission policy and its binding) of an installation. */
export function clusterObjectName(namespace: string): string {
  return `demo-gc-${namespace}`
}

/** The label selector of every object of the installation in `namespace`. */
export function installationSelector(namespace: string): Record<string, string> {
  return {[GC_INSTALLATION_LABEL]: namespace}
}

/** `--namespace`, checked: a DNS-1123 label. */
export function parseInstallNamespace(value: string): string {
  if (!DNS_LABEL.test(value)) {
    throw new UsageError(`--namespace "${value}" is not a valid namespace name.`, {
      hint: `Use lowercase letters, digits and "-", at most 63 characters, e.g. --namespace ${DEFAULT_GC_NAMESPACE}.`,
    })
  }
  return value
}

/** `--database-secret name/key`: the Secret (in the installation's namespace) and the key holding DEMO_DATABASE_URL. */
export function parseDatabaseSecret(value: string): SecretKeyRef {
  const [name = '', key = '', extra] = value.split('/')
  if (extra !== undefined || !DNS_SUBDOMAIN.test(name) || !SECRET_KEY.test(key)) {
    throw new UsageError(`--database-secret "${value}" is not <secret name>/<key>.`, {
      hint: 'Name a Secret in the installation namespace and its key holding the state database URL, e.g. --database-secret demo-state/url (create it with `kubectl -n demo-system create secret generic demo-state --from-literal=url=postgres://...`).',
    })
  }
  return {name, key}
}

/** `--image`: a reference without whitespace; the registry decides the rest. */
export function parseImage(value: string): string {
  if (value === '' || /\s/.test(value)) {
    throw new UsageError(`--image "${value}" is not an image reference.`, {hint: 'Pass e.g. --image registry.example.com/demo-cli:0.1.0.'})
  }
  return value
}

function labels(namespace: string, component: string): Record<string, string> {
  return {[PART_OF_LABEL]: 'demo-cli', [COMPONENT_LABEL]: component, [NAME_LABEL]: 'demo-gc', ...installationSelector(namespace)}
}

function meta(options: GcInstallOptions, name: string, component: string, namespaced: boolean): Manifest['metadata'] {
  return {name, ...(namespaced ? {namespace: options.namespace} : {}), labels: labels(options.namespace, component)}
}

/** The whole installation, in apply order. */
export function renderGcInstall(options: GcInstallOptions): Manifest[] {
  const cronJobs = [gcCronJob(options, GC_CRONJOB, options.schedule, ['gc', '--json'])]
  if (options.healthSchedule !== null) cronJobs.push(gcCronJob(options, HEALTH_CRONJOB, options.healthSchedule, ['health', '--all', '--json']))
  return [
    namespaceObject(options),
    admissionPolicy(options),
    admissionPolicyBinding(options),
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(options, GC_SERVICE_ACCOUNT, 'gc', true)},
    clusterRole(options),
    clusterRoleBinding(options),
    ...cronJobs,
  ]
}

function namespaceObject(options: GcInstallOptions): Manifest {
  const metadata = meta(options, options.namespace, 'gc', false)
  // The CronJob pods meet the restricted Pod Security level; enforcing it keeps anything else out.
  metadata.labels = {...metadata.labels, [podSecurityLabel('enforce')]: 'restricted', [podSecurityVersionLabel('enforce')]: 'latest'}
  return {apiVersion: 'v1', kind: 'Namespace', metadata}
}

/**
 * Exactly the API calls gc, destroy and health make (src/adapters/kubernetes/kubernetes-cluster.ts):
 * namespaces: list (ownedNamespaces), get (readNamespace, namespaceStatus, and kube-system's uid, the cluster's
 * identity), delete (deleteNamespace), patch (setExpiry's server-side apply), watch (waiting for a namespace to
 * go; it shows nothing list does not); inside namespaces, list of Deployments, ReplicaSets, Pods and Warning
 * Events (deployments(), health). RBAC cannot narrow these to demo namespaces by label; the admission policy
 * narrows delete and patch, and nothing here reads Secrets or ConfigMaps or writes anything but namespaces.
 * Not granted: deleting a demo's pods right after its namespace (deleteNamespace), which only makes the namespace
 * go ~5 s sooner and which the adapter skips when refused.
 */
function clusterRole(options: GcInstallOptions): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: meta(options, clusterObjectName(options.namespace), 'gc', false),
    rules: [
      {apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'delete', 'patch']},
      {apiGroups: [''], resources: ['pods', 'events'], verbs: ['list']},
      {apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['list']},
    ],
  }
}

function clusterRoleBinding(options: GcInstallOptions): Manifest {
  const name = clusterObjectName(options.namespace)
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(options, name, 'gc', false),
    roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name},
    subjects: [{kind: 'ServiceAccount', name: GC_SERVICE_ACCOUNT, namespace: options.namespace}],
  }
}

/** CEL: `object` carries the ownership marks of a demo (labels.ts hasOwnershipMarks, in the API server's words). */
function marksExpression(object: string): string {
  const label = (key: string) => `${object}.metadata.labels['${key}']`
  return [
    `has(${object}.metadata.labels) && has(${object}.metadata.annotations)`,
    `'${MANAGED_BY_LABEL}' in ${object}.metadata.labels && ${label(MANAGED_BY_LABEL)} == '${MANAGED_BY_VALUE}'`,
    `'${INSTANCE_LABEL}' in ${object}.metadata.labels && ${label(INSTANCE_LABEL)} != ''`,
    `'${INSTANCE_ANNOTATION}' in ${object}.metadata.annotations && ${object}.metadata.annotations['${INSTANCE_ANNOTATION}'] == ${label(INSTANCE_LABEL)}`,
  ].join(' && ')
}

/**
 * RBAC cannot say "only namespaces with our marks", so a role that may delete namespaces may delete kube-system.
 * This policy closes that in the API server: a DELETE or UPDATE (patch, apply) of a namespace by the gc
 * ServiceAccount is denied unless the namespace carries a demo's ownership marks, and an update may not remove them.
 */
function admissionPolicy(options: GcInstallOptions): Manifest {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: meta(options, clusterObjectName(options.namespace), 'gc', false),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{apiGroups: [''], apiVersions: ['v1'], operations: ['DELETE', 'UPDATE'], resources: ['namespaces']}],
      },
      matchConditions: [{name: 'gc-service-account', expression: `request.userInfo.username == '${gcUsername(options.namespace)}'`}],
      validations: [
        {
          expression: marksExpression('oldObject'),
          message: 'demo gc may delete or change only namespaces that carry the ownership marks of a demo',
          reason: 'Forbidden',
        },
        {
          expression: `request.operation != 'UPDATE' || (${marksExpression('object')})`,
          message: "demo gc may not remove a namespace's ownership marks",
          reason: 'Forbidden',
        },
      ],
    },
  }
}

function admissionPolicyBinding(options: GcInstallOptions): Manifest {
  const name = clusterObjectName(options.namespace)
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: meta(options, name, 'gc', false),
    spec: {policyName: name, validationActions: ['Deny']},
  }
}

/** A CronJob running `demo <args>` as the gc ServiceAccount, under the restricted Pod Security level. */
function gcCronJob(options: GcInstallOptions, name: string, schedule: string, args: string[]): Manifest {
  const component = name === GC_CRONJOB ? 'gc' : 'health'
  const podLabels = labels(options.namespace, component)
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta(options, name, component, true),
    spec: {
      schedule,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: {labels: podLabels},
        spec: {
          // No retries: the next scheduled run is the retry, and a failed run must show as a failed Job.
          backoffLimit: 0,
          activeDeadlineSeconds: ACTIVE_DEADLINE_SECONDS,
          template: {metadata: {labels: podLabels}, spec: podSpec(options, args)},
        },
      },
    },
  }
}

function podSpec(options: GcInstallOptions, args: string[]): Record<string, unknown> {
  return {
    serviceAccountName: GC_SERVICE_ACCOUNT,
    restartPolicy: 'Never',
    securityContext: {runAsNonRoot: true, runAsUser: IMAGE_UID, runAsGroup: IMAGE_UID, seccompProfile: {type: 'RuntimeDefault'}},
    containers: [
      {
        name: args[0],
        image: options.image,
        args,
        env: [
          {name: 'DEMO_DATABASE_URL', valueFrom: {secretKeyRef: {name: options.databaseSecret.name, key: options.databaseSecret.key}}},
          {name: 'DEMO_USER', value: gcUsername(options.namespace)},
          {name: 'HOME', value: '/tmp'},
          {name: 'NO_COLOR', value: '1'},
        ],
        resources: {requests: {cpu: '50m', memory: '128Mi'}, limits: {memory: '512Mi'}},
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}},
        volumeMounts: [{name: 'tmp', mountPath: '/tmp'}],
      },
    ],
    volumes: [{name: 'tmp', emptyDir: {sizeLimit: '64Mi'}}],
  }
}
