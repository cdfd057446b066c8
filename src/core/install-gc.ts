import {ConflictError} from './errors.js'
import {GC_CRONJOB, installationSelector, type SecretKeyRef} from './gc-install-manifests.js'
import {GC_INSTALLATION_LABEL} from './labels.js'
import type {InstallTarget, Manifest, ObjectRef} from './ports.js'

/** What install did with one object: applied it, or kept a namespace that existed without our label (used, never owned). */
export interface InstalledObject extends ObjectRef {
  action: 'applied' | 'kept'
}

export interface InstallResult {
  namespace: string
  objects: InstalledObject[]
  /** What the CronJob will still need (the database Secret), for the user to fix; install itself succeeded. */
  warnings: string[]
}

export interface UninstallResult {
  namespace: string
  /** The objects deleted (or, in a dry run, that would be). */
  deleted: ObjectRef[]
  dryRun: boolean
}

function refOf(manifest: Manifest): ObjectRef {
  return {apiVersion: manifest.apiVersion, kind: manifest.kind, name: manifest.metadata.name, namespace: manifest.metadata.namespace}
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} "${ref.name}"${ref.namespace ? ` in namespace "${ref.namespace}"` : ''}`
}

/**
 * Decides, before anything is written, what happens to each object: an object of the same name that this
 * installation did not make is never taken over (uninstall would later delete it), except the namespace, which
 * is used as it is and left alone by uninstall. ConflictError names the first foreign object; nothing is applied then.
 */
async function planObjects(target: InstallTarget, manifests: Manifest[], namespace: string): Promise<InstalledObject[]> {
  const planned: InstalledObject[] = []
  for (const manifest of manifests) {
    const ref = refOf(manifest)
    const labels = await target.labelsOf(ref)
    const ours = labels === undefined || labels[GC_INSTALLATION_LABEL] === namespace
    if (!ours && manifest.kind !== 'Namespace') {
      throw new ConflictError(`Cannot install demo gc: ${describeRef(ref)} exists and was not made by \`demo gc install\`; it is left untouched.`, {
        hint: `Delete or rename it yourself, or install into another namespace with --namespace.`,
      })
    }
    planned.push({...ref, action: ours ? 'applied' : 'kept'})
  }
  return planned
}

async function secretWarnings(target: InstallTarget, namespace: string, secret: SecretKeyRef): Promise<string[]> {
  const found = await target.secretHasKey(namespace, secret.name, secret.key)
  if (found !== false) return []
  return [
    `Secret "${secret.name}" in namespace "${namespace}" has no key "${secret.key}" (or does not exist): the ${GC_CRONJOB} Jobs cannot start until it does. Create it with \`kubectl -n ${namespace} create secret generic ${secret.name} --from-literal=${secret.key}=postgres://...\`.`,
  ]
}

/**
 * Applies the installation (renderGcInstall's objects, in their order) to the cluster. Idempotent: running it
 * again converges every object to what is rendered now. Refuses (ConflictError) before writing anything when an
 * object of the same name exists that it did not make.
 */
export async function installGc(
  target: InstallTarget,
  manifests: Manifest[],
  options: {namespace: string; databaseSecret: SecretKeyRef},
): Promise<InstallResult> {
  const planned = await planObjects(target, manifests, options.namespace)
  for (const [i, manifest] of manifests.entries()) {
    if (planned[i]?.action === 'applied') await target.apply(manifest)
  }
  return {namespace: options.namespace, objects: planned, warnings: await secretWarnings(target, options.namespace, options.databaseSecret)}
}

/** Kinds of an installation, in delete order: first what runs (CronJobs), then the rights, the policy last, so the rights never outlive it. */
const UNINSTALL_ORDER: Array<{apiVersion: string; kind: string; namespaced: boolean}> = [
  {apiVersion: 'batch/v1', kind: 'CronJob', namespaced: true},
  {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', namespaced: false},
  {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', namespaced: false},
  {apiVersion: 'v1', kind: 'ServiceAccount', namespaced: true},
  {apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false},
  {apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', namespaced: false},
  {apiVersion: 'v1', kind: 'Namespace', namespaced: false},
]

/**
 * Deletes exactly the objects that carry the installation's label (what install made), in UNINSTALL_ORDER; the
 * namespace only when install created it, and not with `keepNamespace`. Idempotent: nothing found is success.
 */
export async function uninstallGc(
  target: InstallTarget,
  options: {namespace: string; keepNamespace: boolean; dryRun: boolean},
): Promise<UninstallResult> {
  const selector = installationSelector(options.namespace)
  const found: ObjectRef[] = []
  for (const kind of UNINSTALL_ORDER) {
    if (kind.kind === 'Namespace' && options.keepNamespace) continue
    const refs = await target.find(kind, selector, kind.namespaced ? options.namespace : undefined)
    // The label's value names the installation's namespace; only that namespace itself can be its own.
    found.push(...refs.filter((ref) => kind.kind !== 'Namespace' || ref.name === options.namespace))
  }
  if (options.dryRun) return {namespace: options.namespace, deleted: found, dryRun: true}
  const deleted: ObjectRef[] = []
  for (const ref of found) if (await target.delete(ref)) deleted.push(ref)
  return {namespace: options.namespace, deleted, dryRun: false}
}
