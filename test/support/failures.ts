import assert from 'node:assert/strict'
import {DemoError} from '../../src/core/errors.js'

/** The DemoError `call` rejects with; fails the test when it resolves or rejects with anything else. */
export async function failureOf(call: Promise<unknown>): Promise<DemoError> {
  try {
    await call
  } catch (error) {
    assert.ok(error instanceof DemoError, `a DemoError, got ${String(error)}`)
    return error
  }
  assert.fail('expected the call to fail')
}
