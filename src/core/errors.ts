/**
 * Every failure the user can act on is a DemoError: a one-line message (what failed, on which object, why),
 * a hint (the exact next step) and an exit code from the documented contract.
 */
export const ExitCode = {ok: 0, failed: 1, usage: 2, gcBrake: 3, degraded: 4, unhealthy: 5, cancelled: 130} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface DemoErrorOptions {
  hint?: string
  cause?: unknown
}

export class DemoError extends Error {
  readonly code: string = 'E_DEMO'
  readonly exitCode: ExitCode = ExitCode.failed
  readonly hint: string | undefined

  constructor(message: string, options: DemoErrorOptions = {}) {
    super(message, {cause: options.cause})
    this.name = new.target.name
    this.hint = options.hint
  }
}

/** The user asked for something invalid: a flag, an argument, a config value. Nothing was changed. */
export class UsageError extends DemoError {
  override readonly code: string = 'E_USAGE'
  override readonly exitCode = ExitCode.usage
}

/** demo.config.yaml (or another config source) is malformed; names the file and the key. */
export class ConfigError extends UsageError {
  override readonly code = 'E_CONFIG'
}

/** No demo with that id exists in the state store. */
export class NotFoundError extends DemoError {
  override readonly code = 'E_NOT_FOUND'
}

/**
 * The request conflicts with the current state of the demo or of a Kubernetes object: the API server
 * answered 409, or the demo is gone or going. The subclasses below name the conflicts callers act on;
 * decide on those types, never on this base or on message text.
 */
export class ConflictError extends DemoError {
  override readonly code: string = 'E_CONFLICT'
}

/** The status change is not allowed by the state machine (a destroy raced a create, ...). */
export class StateTransitionError extends ConflictError {
  override readonly code = 'E_TRANSITION'
}

/** Someone else changed the row between our read and our write. Safe to re-read and decide again. */
export class VersionConflictError extends ConflictError {
  override readonly code = 'E_VERSION_CONFLICT'
}

/** The state store already holds a row with that key (SQLSTATE 23505): a demo with that id or namespace. */
export class DuplicateError extends ConflictError {
  override readonly code = 'E_DUPLICATE'
}

/** The demo's lifetime is over; it can no longer be extended. */
export class DemoExpiredError extends ConflictError {
  override readonly code = 'E_EXPIRED'
}

/** A namespace of the demo's name exists without the demo's marks: it was never ours and is left untouched. */
export class ForeignNamespaceError extends ConflictError {
  override readonly code = 'E_NAMESPACE_FOREIGN'
}

/** The demo's namespace is being deleted; nothing can be created in it until it is gone. */
export class NamespaceTerminatingError extends ConflictError {
  override readonly code = 'E_NAMESPACE_TERMINATING'
}

/** The demo's namespace disappeared while the demo was being set up (deleted by someone else). */
export class NamespaceGoneError extends ConflictError {
  override readonly code = 'E_NAMESPACE_GONE'
}

/** A configured cap is reached: live demos per owner or in all, or a demo's extensions or total lifetime. */
export class LimitError extends DemoError {
  override readonly code = 'E_LIMIT'
}

/** The caller is neither the demo's owner nor an admin. */
export class PermissionError extends DemoError {
  override readonly code = 'E_PERMISSION'
}

/** The state store answered with an error, or holds data this CLI cannot use. */
export class StoreError extends DemoError {
  override readonly code: string = 'E_STORE'
}

/** A statement of the state store waited too long for a lock another session holds (the message names it). */
export class StoreLockTimeoutError extends StoreError {
  override readonly code = 'E_STORE_LOCKED'
}

/** The state store cannot be reached or stopped answering (at start-up or in the middle of a command). */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'E_STORE_UNREACHABLE'
}

/** A database mode this version cannot handle: a config asks for it, or a demo was recorded with it by another version. */
export class UnsupportedDatabaseModeError extends DemoError {
  override readonly code = 'E_DATABASE_MODE'
}

/** The shared database of a demo's database mode refused or failed a request (privileges, SQL). */
export class DatabaseError extends DemoError {
  override readonly code: string = 'E_DATABASE'
}

/** The shared database cannot be reached (refused, timed out, wrong password). */
export class DatabaseUnavailableError extends DatabaseError {
  override readonly code = 'E_DATABASE_UNREACHABLE'
}

/** One of the app's migration files failed; the message names the file and the statement's line. Nothing of it was kept. */
export class MigrationError extends DatabaseError {
  override readonly code = 'E_MIGRATION'
}

/** Loading a demo's seed failed (a seed file's SQL, or a seed command that failed or timed out). Nothing of it was kept. */
export class SeedError extends DatabaseError {
  override readonly code = 'E_SEED'
}

/** The Kubernetes API server refused or failed a request. */
export class ClusterError extends DemoError {
  override readonly code: string = 'E_CLUSTER'
}

/** The API server cannot be reached, or is overloaded or failing (429, 5xx). */
export class ClusterUnavailableError extends ClusterError {
  override readonly code = 'E_CLUSTER_UNREACHABLE'
}

/**
 * The API server refused the credentials (HTTP 401) even after they were loaded again (the kubeconfig read again, its
 * exec plugin run again): they have expired or were revoked. Logging in again is the fix (fault matrix T15).
 */
export class ClusterAuthError extends ClusterError {
  override readonly code = 'E_CLUSTER_AUTH'
}

/** The kubeconfig points at another cluster than the one a demo was created in (by the cluster's identity, the kube-system namespace's UID). */
export class WrongClusterError extends UsageError {
  override readonly code = 'E_WRONG_CLUSTER'
}

/** `demo gc` deleted nothing: what it read was incomplete or implausible, or it planned more deletions than allowed. */
export class GcBrakeError extends DemoError {
  override readonly code = 'E_GC_BRAKE'
  override readonly exitCode = ExitCode.gcBrake
}

/** `demo gc` ran, and some of its actions failed (the others were done; the report says which). */
export class GcIncompleteError extends DemoError {
  override readonly code = 'E_GC_INCOMPLETE'
}

/** The Supabase Management or Auth API refused a request (the message says which call and why, never a secret). */
export class SupabaseError extends DemoError {
  override readonly code: string = 'E_SUPABASE'
}

/** The Supabase API refused our credentials (401/403): SUPABASE_ACCESS_TOKEN is missing, expired or lacks a permission. */
export class SupabaseAuthError extends SupabaseError {
  override readonly code = 'E_SUPABASE_AUTH'
}

/** The Supabase API cannot be reached, or kept answering 429 or 5xx after the retries. */
export class SupabaseUnavailableError extends SupabaseError {
  override readonly code = 'E_SUPABASE_UNREACHABLE'
}

/** Waiting for something (Deployments Available, a namespace gone) ran out of time. */
export class TimeoutError extends DemoError {
  override readonly code = 'E_TIMEOUT'
}

/** The operation was interrupted (Ctrl-C, SIGTERM) and cleaned up after itself. */
export class CancelledError extends DemoError {
  override readonly code = 'E_CANCELLED'
  override readonly exitCode = ExitCode.cancelled
}

/**
 * A create that failed and was cleaned up (or deliberately kept), with a message that says what is left
 * behind: the cause's code and exit code, or E_CREATE_FAILED and 1 when the cause was unexpected.
 */
export class CreateFailedError extends DemoError {
  override readonly code: string
  override readonly exitCode: ExitCode

  constructor(message: string, options: DemoErrorOptions & {code?: string; exitCode?: ExitCode} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_CREATE_FAILED'
    this.exitCode = options.exitCode ?? ExitCode.failed
  }
}

export function isDemoError(error: unknown): error is DemoError {
  return error instanceof DemoError
}
