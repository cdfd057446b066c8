/**
 * Every failure the user can act on is a DemoError: a one-line message (what failed, on which object, why),
 * a hint (the exact next step) and an exit code from the documented contract.
 */
export const ExitCode = {ok: 0, failed: 1, usage: 2, cancelled: 130} as const
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

/** The demo exists but the request is not allowed now (expired, destroyed, limit reached ...). */
export class ConflictError extends DemoError {
  override readonly code: string = 'E_CONFLICT'
}

/** A cap on live demos (per owner or global) is reached. */
export class LimitError extends ConflictError {
  override readonly code = 'E_LIMIT'
}

/** The caller is neither the demo's owner nor an admin. */
export class PermissionError extends DemoError {
  override readonly code = 'E_PERMISSION'
}

/** The state store refused a status change the state machine does not allow, or the row changed underneath. */
export class StateTransitionError extends ConflictError {
  override readonly code = 'E_TRANSITION'
}

/** The state store cannot be reached or answered with an error. */
export class StoreError extends DemoError {
  override readonly code: string = 'E_STORE'
}

export class StoreUnavailableError extends StoreError {
  override readonly code = 'E_STORE_UNREACHABLE'
}

/** The Kubernetes API server refused or failed a request. */
export class ClusterError extends DemoError {
  override readonly code: string = 'E_CLUSTER'
}

export class ClusterUnavailableError extends ClusterError {
  override readonly code = 'E_CLUSTER_UNREACHABLE'
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
 * A create that failed and was cleaned up (or deliberately kept): the cause's code and exit code, with a
 * message that says what is left behind.
 */
export class CreateFailedError extends DemoError {
  override readonly code: string
  override readonly exitCode: ExitCode

  constructor(message: string, options: DemoErrorOptions & {code: string; exitCode: ExitCode}) {
    super(message, options)
    this.code = options.code
    this.exitCode = options.exitCode
  }
}

export function isDemoError(error: unknown): error is DemoError {
  return error instanceof DemoError
}

/** Someone else changed the row between our read and our write. Safe to re-read and decide again. */
export class VersionConflictError extends StateTransitionError {}
