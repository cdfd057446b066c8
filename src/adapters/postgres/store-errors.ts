import {DemoError, DuplicateError, StoreError, StoreUnavailableError} from '../../core/errors.js'

/**
 * Errors of node-pg and PGlite, classified by SQLSTATE or socket error code (STYLE.md), never by their
 * `message`. https://www.postgresql.org/docs/current/errcodes-appendix.html
 */

/** What a server's error response carries: pg-protocol's and PGlite's DatabaseError both have these fields. */
interface ServerErrorFields {
  code: unknown
  severity: unknown
  constraint: unknown
}

/** The SQLSTATE of an error the server answered with, or undefined when the failure is not the server's answer. */
export function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const {code, severity} = error as Partial<ServerErrorFields>
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** Class 08 (connection exception), 57P01-57P03 (shutting down, cannot connect now), 53300 (too many connections). */
function isUnreachableState(state: string): boolean {
  return state.startsWith('08') || state.startsWith('57P') || state === '53300'
}

/**
 * Whether a failure that is not the server's answer is the connection's: a socket error (ECONNREFUSED,
 * ECONNRESET, ... on an Error or, for a host with several addresses, an AggregateError) or a plain Error of
 * node-pg, which reports a lost connection and its connect and query timeouts that way, without a code.
 * TypeError and its kin are programming errors and stay what they are.
 * https://github.com/brianc/node-postgres/blob/master/packages/pg/lib/client.js
 */
function isConnectionFailure(error: Error): boolean {
  const prototype: unknown = Object.getPrototypeOf(error)
  return typeof (error as NodeJS.ErrnoException).code === 'string' || prototype === Error.prototype || prototype === AggregateError.prototype
}

function firstLine(error: Error): string {
  return error.message.split('\n')[0] || error.name
}

export interface StoreErrorContext {
  /** Where the store is, without credentials: `at 127.0.0.1:5432`, `at ~/.local/share/demo/state`. */
  where: string
  /** True for a store behind a network connection (node-pg); PGlite runs in the process and has none. */
  networked: boolean
}

/** The state store at `where` is unreachable, naming how (the socket code, SQLSTATE or the driver's words). */
export function unreachableStore(where: string, detail: string, cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`The state store ${where} is unreachable (${detail}).`, {
    cause,
    hint: 'Check that the state database is up and reachable from here (DEMO_DATABASE_URL), then retry.',
  })
}

function errorForState(error: Error, state: string, context: StoreErrorContext): DemoError {
  if (isUnreachableState(state)) return unreachableStore(context.where, `SQLSTATE ${state}`, error)
  if (state === '23505') {
    const constraint = (error as Partial<ServerErrorFields>).constraint
    return new DuplicateError(
      `The state store ${context.where} already has a row with that key${typeof constraint === 'string' ? ` (${constraint})` : ''}.`,
      {cause: error},
    )
  }
  return new StoreError(`The state store ${context.where} refused a query: ${firstLine(error)} (SQLSTATE ${state}).`, {cause: error})
}

/**
 * A DemoError for a failed query or transaction: the server's answer by SQLSTATE (23505 → DuplicateError,
 * connection classes → StoreUnavailableError, else StoreError), a lost connection → StoreUnavailableError.
 * DemoErrors and programming errors pass through unchanged.
 */
export function toStoreError(error: unknown, context: StoreErrorContext): Error {
  if (error instanceof DemoError) return error
  if (!(error instanceof Error)) return new StoreError(`The state store ${context.where} failed: ${String(error)}.`, {cause: error})
  const state = sqlStateOf(error)
  if (state !== undefined) return errorForState(error, state, context)
  if (context.networked && isConnectionFailure(error)) {
    const {code} = error as NodeJS.ErrnoException
    return unreachableStore(context.where, typeof code === 'string' ? code : firstLine(error), error)
  }
  return error
}
