import assert from 'node:assert/strict'
import {DemoError} from '../../src/core/errors.js'

/** The Error `call` rejects with; fails the test when it resolves or rejects with something that is not an Error. */
export async function rejectionOf(call: Promise<unknown>): Promise<Error> {
  try {
    await call
  } catch (error) {
    assert.ok(error instanceof Error, `an Error, got ${String(error)}`)
    return error
  }
  assert.fail('expected the call to fail')
}

/** The DemoError `call` rejects with; fails the test when it resolves or rejects with anything else. */
export async function failureOf(call: Promise<unknown>): Promise<DemoError> {
  const error = await rejectionOf(call)
  assert.ok(error instanceof DemoError, `a DemoError, got ${String(error)}`)
  return error
}
