import type {Demo} from './demo.js'
import {PermissionError} from './errors.js'
import {mayManage} from './identity.js'
import type {Cluster} from './ports.js'

/** Who asks for a change: the name they declare, and who the cluster authenticated them as. */
export interface Caller {
  /** --owner, DEMO_USER, the CI's actor, git: spoofable, so it decides only for rows without an authenticated identity. */
  declared: string
  /** The cluster's answer to SelfSubjectReview for the caller's credentials; null when the cluster could not tell. */
  authenticated: string | null
}

/** Who may act on demos they did not create (demo.config.yaml). */
export interface AuthorizationPolicy {
  /** People allowed to destroy, extend and reset any demo. Matched against the authenticated identity when the row has one. */
  admins: readonly string[]
  /** Authenticated identities allowed to act for others: the CI's or gc's ServiceAccount ("system:serviceaccount:ns:name"). */
  trustedIdentities: readonly string[]
}

/** What a caller asks to do to someone's demo (named in the refusal). */
export type ChangeVerb = 'destroy' | 'extend' | 'reset'

export type Authorization = {allowed: true; as: 'owner' | 'admin' | 'trusted'} | {allowed: false; reason: string}

/**
 * Whether `caller` may destroy, extend or reset `demo`. Pure; every command that changes someone's demo (destroy,
 * extend, reset, gc) decides with it.
 * - A row with an authenticated identity: only the same authenticated identity, an authenticated identity on
 *   `admins` or `trustedIdentities`. The declared owner grants nothing there, and a caller the cluster could not
 *   identify is refused (it cannot prove who it is).
 * - A row without one (created before, or where the cluster had no SelfSubjectReview): today's rule, the declared
 *   owner or a declared admin, and also a trusted authenticated identity.
 */
export function authorizeChange(demo: Pick<Demo, 'createdBy' | 'authenticatedAs'>, caller: Caller, policy: AuthorizationPolicy): Authorization {
  const {authenticated} = caller
  if (authenticated !== null && policy.trustedIdentities.includes(authenticated)) return {allowed: true, as: 'trusted'}
  if (demo.authenticatedAs === null) {
    if (caller.declared === demo.createdBy) return {allowed: true, as: 'owner'}
    if (mayManage(caller.declared, demo, policy.admins)) return {allowed: true, as: 'admin'}
    return {allowed: false, reason: `it belongs to ${demo.createdBy}, and you are ${caller.declared}`}
  }
  if (authenticated === demo.authenticatedAs) return {allowed: true, as: 'owner'}
  if (authenticated !== null && policy.admins.includes(authenticated)) return {allowed: true, as: 'admin'}
  const creator = `it was created by ${demo.createdBy}, authenticated by the cluster as "${demo.authenticatedAs}"`
  if (authenticated === null) return {allowed: false, reason: `${creator}, and the cluster cannot tell who you are`}
  return {allowed: false, reason: `${creator}, and you are authenticated as "${authenticated}"`}
}

/** Throws PermissionError naming who created the demo and who the caller is, unless authorizeChange allows it. */
export function assertMayChange(
  demo: Pick<Demo, 'id' | 'createdBy' | 'authenticatedAs'>,
  caller: Caller,
  policy: AuthorizationPolicy,
  verb: ChangeVerb,
): void {
  const decision = authorizeChange(demo, caller, policy)
  if (decision.allowed) return
  const hint =
    demo.authenticatedAs === null
      ? 'Ask its owner, or an admin listed under `admins` in demo.config.yaml.'
      : `Ask its owner, use the credentials it was created with, or have "${caller.authenticated ?? 'your identity'}" listed under \`admins\` or \`trustedIdentities\` in demo.config.yaml (\`kubectl auth whoami\` shows who you are).`
  throw new PermissionError(`Cannot ${verb} demo "${demo.id}": ${decision.reason}.`, {hint})
}

/**
 * assertMayChange with the caller's authenticated identity, asked of the cluster (`connect`) only when the decision
 * needs it: always for a row that records one, and for an older row only when the declared name is not enough and
 * trusted identities are configured. Returns the cluster when it connected, so the caller reuses it.
 */
export async function authorizeCaller(
  demo: Pick<Demo, 'id' | 'createdBy' | 'authenticatedAs'>,
  request: AuthorizationPolicy & {actor: string; verb: ChangeVerb},
  connect: () => Promise<Cluster>,
): Promise<Cluster | undefined> {
  const {actor: declared, verb} = request
  const policy: AuthorizationPolicy = {admins: request.admins, trustedIdentities: request.trustedIdentities}
  const declaredOnly: Caller = {declared, authenticated: null}
  if (demo.authenticatedAs === null) {
    if (authorizeChange(demo, declaredOnly, policy).allowed) return undefined
    if (policy.trustedIdentities.length === 0) assertMayChange(demo, declaredOnly, policy, verb)
  }
  const cluster = await connect()
  const user = await cluster.authenticatedUser()
  assertMayChange(demo, {declared, authenticated: 'username' in user ? user.username : null}, policy, verb)
  return cluster
}
