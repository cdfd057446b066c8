/**
 * Every label and annotation key `demo` writes or reads, in one place (STYLE.md). The renderer (core) stamps
 * them on every object; the Kubernetes adapter selects and verifies ownership by them.
 *
 * Ownership = MANAGED_BY_LABEL is MANAGED_BY_VALUE and INSTANCE_LABEL is the demo id. Values that are not
 * valid label values (an e-mail address, a timestamp) are annotations.
 */
const PREFIX = 'demo.splits.network'

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY_VALUE = 'demo-cli'
/** The demo id; together with MANAGED_BY_LABEL it makes an object ours. */
export const INSTANCE_LABEL = `${PREFIX}/instance`
export const DEMO_TYPE_LABEL = `${PREFIX}/demo-type`
/** The service a workload belongs to (selectors of the built-in templates use it). */
export const NAME_LABEL = 'app.kubernetes.io/name'

export const CREATED_BY_ANNOTATION = `${PREFIX}/created-by`
/** ISO 8601 with milliseconds, the state store's expires_at at render time (`demo extend` updates it). */
export const EXPIRES_AT_ANNOTATION = `${PREFIX}/expires-at`
/** The demo id again, as an annotation: gc lists by label and double-checks the annotation. */
export const INSTANCE_ANNOTATION = `${PREFIX}/instance`
/** Why the namespace runs the baseline Pod Security level instead of restricted. */
export const POD_SECURITY_REASON_ANNOTATION = `${PREFIX}/pod-security-reason`
/** kube-janitor deletes the namespace after this time, a second safety net where a cluster runs it. */
export const JANITOR_EXPIRES_ANNOTATION = 'janitor/expires'

/** Pod Security Admission labels: https://kubernetes.io/docs/concepts/security/pod-security-admission/ */
export const POD_SECURITY_MODES = ['enforce', 'audit', 'warn'] as const
export function podSecurityLabel(mode: (typeof POD_SECURITY_MODES)[number]): string {
  return `pod-security.kubernetes.io/${mode}`
}
export function podSecurityVersionLabel(mode: (typeof POD_SECURITY_MODES)[number]): string {
  return `pod-security.kubernetes.io/${mode}-version`
}

/** The label selector of everything demo-cli manages, for list calls. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`

export interface MarkedMetadata {
  labels?: Record<string, string> | undefined
  annotations?: Record<string, string> | undefined
}

/**
 * Whether an object carries the marks of the demo `demoId`: managed by us, the instance label and the
 * instance annotation both equal to the id. Two independent fields, so one stray label is not enough.
 */
export function hasOwnershipMarks(metadata: MarkedMetadata | undefined, demoId: string): boolean {
  return (
    metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE &&
    metadata.labels[INSTANCE_LABEL] === demoId &&
    metadata.annotations?.[INSTANCE_ANNOTATION] === demoId
  )
}

/** kube-janitor's accepted format: `2026-01-17T15:14:38Z` (no fractional seconds). */
export function janitorTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * The expiry annotations of a namespace moved to `expiresAt`: expires-at always, janitor/expires only where
 * it is already set (a demo created with --no-auto-cleanup has none, so kube-janitor never deletes it).
 */
export function movedExpiry(annotations: Record<string, string>, expiresAt: Date): Record<string, string> {
  const moved: Record<string, string> = {[EXPIRES_AT_ANNOTATION]: expiresAt.toISOString()}
  if (annotations[JANITOR_EXPIRES_ANNOTATION] !== undefined) moved[JANITOR_EXPIRES_ANNOTATION] = janitorTimestamp(expiresAt)
  return moved
}

/**
 * Objects of `demo gc install` (its Namespace, ServiceAccount, RBAC, admission policy and CronJobs), which belong
 * to no demo: the value is the namespace the installation lives in, so `demo gc uninstall` finds exactly them.
 * They never carry MANAGED_BY_LABEL, so no listing of demo namespaces ever sees them.
 */
export const GC_INSTALLATION_LABEL = `${PREFIX}/gc-installation`
export const PART_OF_LABEL = 'app.kubernetes.io/part-of'
export const COMPONENT_LABEL = 'app.kubernetes.io/component'
