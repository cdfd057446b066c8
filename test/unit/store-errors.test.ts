import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {hostOf} from '../../src/adapters/postgres/db.js'
import {toStoreError, type StoreErrorContext} from '../../src/adapters/postgres/store-errors.js'
import {DuplicateError, NotFoundError, StoreError, StoreUnavailableError} from '../../src/core/errors.js'

const NETWORKED: StoreErrorContext = {where: 'at db.example.com:5432', networked: true}
const EMBEDDED: StoreErrorContext = {where: 'at /home/me/.local/share/demo/state', networked: false}

/** What pg-protocol's (and PGlite's) DatabaseError looks like: a server's ErrorResponse with a SQLSTATE. */
function aServerError(code: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`server says ${code}`), {severity: 'ERROR', code, ...fields})
}

/** A Node socket error as node-pg passes it on (`connect ECONNREFUSED 127.0.0.1:5432`). */
function aSocketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.7:5432`), {errno: -111, code, syscall: 'connect'})
}

describe('toStoreError', () => {
  it('classifies SQLSTATE 23505 as a DuplicateError naming the constraint', () => {
    const error = toStoreError(aServerError('23505', {constraint: 'demo_instances_pkey'}), NETWORKED)
    assert.ok(error instanceof DuplicateError)
    assert.equal(error.message, 'The state store at db.example.com:5432 already has a row with that key (demo_instances_pkey).')
  })

  it('classifies 23505 the same way for the embedded store', () => {
    assert.ok(toStoreError(aServerError('23505'), EMBEDDED) instanceof DuplicateError)
  })

  for (const state of ['08006', '08001', '57P01', '57P03', '53300']) {
    it(`classifies SQLSTATE ${state} as the store being unreachable, naming the host`, () => {
      const error = toStoreError(aServerError(state), NETWORKED)
      assert.ok(error instanceof StoreUnavailableError)
      assert.equal(error.message, `The state store at db.example.com:5432 is unreachable (SQLSTATE ${state}).`)
    })
  }

  it('wraps any other answer of the server as a StoreError with its SQLSTATE, keeping the cause', () => {
    const cause = aServerError('42501')
    const error = toStoreError(cause, NETWORKED)
    assert.ok(error instanceof StoreError && !(error instanceof StoreUnavailableError))
    assert.equal(error.code, 'E_STORE')
    assert.equal(error.message, 'The state store at db.example.com:5432 refused a query: server says 42501 (SQLSTATE 42501).')
    assert.equal(error.cause, cause)
  })

  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']) {
    it(`classifies a ${code} socket error in the middle of a command as unreachable, with the host first and the code`, () => {
      const error = toStoreError(aSocketError(code), NETWORKED)
      assert.ok(error instanceof StoreUnavailableError)
      assert.equal(error.message, `The state store at db.example.com:5432 is unreachable (${code}).`)
      assert.equal(error.code, 'E_STORE_UNREACHABLE')
    })
  }

  it('classifies an AggregateError of refused connections (a host with several addresses) as unreachable', () => {
    const error = toStoreError(
      Object.assign(new AggregateError([aSocketError('ECONNREFUSED'), aSocketError('ECONNREFUSED')]), {code: 'ECONNREFUSED'}),
      NETWORKED,
    )
    assert.ok(error instanceof StoreUnavailableError)
  })

  it("classifies node-pg's plain Error for a lost connection as unreachable, quoting it", () => {
    const error = toStoreError(new Error('Connection terminated unexpectedly'), NETWORKED)
    assert.ok(error instanceof StoreUnavailableError)
    assert.equal(error.message, 'The state store at db.example.com:5432 is unreachable (Connection terminated unexpectedly).')
  })

  it('leaves programming errors and errors of the embedded store that are not SQL answers as they are', () => {
    const bug = new TypeError('Cannot read properties of undefined')
    assert.equal(toStoreError(bug, NETWORKED), bug)
    const embedded = new Error('PGlite is closed')
    assert.equal(toStoreError(embedded, EMBEDDED), embedded)
  })

  it('passes our own errors through unchanged', () => {
    const notFound = new NotFoundError('No demo with id "k3x9a2bq".')
    assert.equal(toStoreError(notFound, NETWORKED), notFound)
  })
})

describe('hostOf', () => {
  it('names host and port, never the user or the password', () => {
    assert.equal(hostOf('postgres://app:s3cret@db.example.com:6543/demo?sslmode=require'), 'db.example.com:6543')
    assert.equal(hostOf('postgres://app:s3cret@db.example.com/demo'), 'db.example.com')
  })

  it('falls back to the redacted URL when there is no host in it', () => {
    assert.doesNotMatch(hostOf('not a url s3cret'), /s3cret/)
  })
})
