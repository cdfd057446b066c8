import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {checkDemoType, checkDuration} from '../../src/core/create-options.js'
import {UsageError} from '../../src/core/errors.js'
import {defaultProjectConfig} from '../../src/core/project-config.js'

const {types, lifetime} = defaultProjectConfig()
const HOUR = 3_600_000

// One rule for --type/--duration of `demo create` and the type/duration preferences of `demo config set`.
describe('checkDemoType', () => {
  it('accepts a type of the project config', () => {
    assert.equal(checkDemoType(types, 'startup'), 'startup')
  })

  it('refuses any other type, listing the configured ones', () => {
    assert.throws(
      () => checkDemoType(types, 'bank'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === 'Unknown demo type "bank".' &&
        e.hint === 'Use one of: recruiting-agency, enterprise, startup (the types in demo.config.yaml).',
    )
  })
})

describe('checkDuration', () => {
  it('accepts the bounds themselves and returns milliseconds', () => {
    assert.equal(checkDuration(lifetime, '1h', 'flag'), HOUR)
    assert.equal(checkDuration(lifetime, '8h', 'preference'), 8 * HOUR)
  })

  it('names the flag for a flag, and says how to pass one in range', () => {
    assert.throws(
      () => checkDuration(lifetime, '9h', 'flag'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === '--duration must be between 1h and 8h, got 9h.' &&
        e.hint === 'Pass e.g. --duration 2h (lifetime.minHours/maxHours in demo.config.yaml set the range).',
    )
  })

  it('names the preference for a preference, and says how to set one in range', () => {
    assert.throws(
      () => checkDuration(lifetime, ' 59m ', 'preference'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === 'duration must be between 1h and 8h, got 59m.' &&
        e.hint === 'Run `demo config set duration 2h` (lifetime.minHours/maxHours in demo.config.yaml set the range).',
    )
  })

  it('refuses an unparseable duration with the parser’s message, naming the flag or the preference', () => {
    assert.throws(
      () => checkDuration(lifetime, 'soon', 'flag'),
      (e: unknown) => e instanceof UsageError && e.message === 'Cannot parse --duration "soon".',
    )
    assert.throws(
      () => checkDuration(lifetime, 'soon', 'preference'),
      (e: unknown) => e instanceof UsageError && e.message === 'Cannot parse duration "soon".',
    )
  })
})
