import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {UsageError} from '../../src/core/errors.js'
import {assertValidId, assertValidName, ID_LENGTH, isDnsLabel, isValidId, makeId, namespaceFor, schemaFor} from '../../src/core/naming.js'

describe('makeId', () => {
  it('builds an 8-character id that starts with a letter from random bytes', () => {
    const id = makeId(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    assert.equal(id, 'abcdefgh')
    assert.equal(id.length, ID_LENGTH)
  })

  it('maps bytes onto letters and digits only, first character always a letter', () => {
    const id = makeId(new Uint8Array([255, 35, 34, 26, 27, 36, 61, 200]))
    assert.match(id, /^[a-z][a-z0-9]{7}$/)
    assert.equal(id[0], 'v') // 255 % 26 = 21 → "v"
    assert.equal(id.slice(1, 5), '9801') // 35 → "9", 34 → "8", 26 → "0", 27 → "1"
  })

  it('always yields a valid id, a valid namespace and a valid schema for any bytes', () => {
    for (let seed = 0; seed < 256; seed++) {
      const bytes = new Uint8Array(Array.from({length: 8}, (_, i) => (seed * 31 + i * 97) % 256))
      const id = makeId(bytes)
      assert.ok(isValidId(id), id)
      assert.ok(isDnsLabel(namespaceFor(id)), id)
      assert.match(schemaFor(id), /^demo_[a-z0-9_]+$/)
    }
  })
})

describe('ids', () => {
  for (const id of ['k3x9a2bq', 'abcdef', 'a'.repeat(32)]) {
    it(`accepts "${id}"`, () => assert.equal(isValidId(id), true))
  }
  for (const id of ['', 'abcde', '1abcdefg', 'K3X9A2BQ', 'abc-defg', 'abc_defg', 'a'.repeat(33), 'abc defg', "x'; drop"]) {
    it(`refuses "${id}" with a usage error and a hint`, () => {
      assert.equal(isValidId(id), false)
      assert.throws(
        () => assertValidId(id),
        (error: unknown) =>
          error instanceof UsageError && error.exitCode === 2 && /is not a demo id/.test(error.message) && /demo list/.test(error.hint ?? ''),
      )
    })
  }
})

describe('namespaceFor', () => {
  it('prefixes the id', () => {
    assert.equal(namespaceFor('k3x9a2bq'), 'demo-k3x9a2bq')
    assert.equal(namespaceFor('k3x9a2bq', 'sales-'), 'sales-k3x9a2bq')
  })

  it('refuses a name longer than 63 characters', () => {
    assert.throws(() => namespaceFor('a'.repeat(60)), UsageError)
  })

  it('refuses a prefix that makes an invalid DNS label', () => {
    assert.throws(() => namespaceFor('k3x9a2bq', 'Demo_'), /not a valid DNS-1123 label/)
  })
})

describe('schemaFor', () => {
  it('replaces every character outside [a-z0-9_], not only the first hyphen', () => {
    assert.equal(schemaFor('a-b-c'), 'demo_a_b_c')
    assert.equal(schemaFor('k3x9a2bq'), 'demo_k3x9a2bq')
  })

  it('keeps schema names within 63 characters', () => {
    assert.equal(schemaFor('a'.repeat(100)).length, 63)
  })
})

describe('assertValidName', () => {
  for (const name of ['acme', 'acme-call-2', 'a', '0', 'a'.repeat(40)]) {
    it(`accepts "${name}"`, () => assert.doesNotThrow(() => assertValidName(name)))
  }
  for (const name of ['', '-acme', 'acme-', 'Acme', 'acme call', 'a'.repeat(41), 'acme_call']) {
    it(`refuses "${name}"`, () =>
      assert.throws(
        () => assertValidName(name),
        (e: unknown) => e instanceof UsageError && /is not allowed/.test(e.message),
      ))
  }
})

describe('isDnsLabel', () => {
  it('accepts lowercase labels up to 63 characters and refuses others', () => {
    assert.equal(isDnsLabel('demo-abc'), true)
    assert.equal(isDnsLabel('a'.repeat(63)), true)
    assert.equal(isDnsLabel('a'.repeat(64)), false)
    assert.equal(isDnsLabel('-abc'), false)
    assert.equal(isDnsLabel('ABC'), false)
  })
})
