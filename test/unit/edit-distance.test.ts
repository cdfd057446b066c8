import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {closestMatch, editDistance} from '../../src/core/edit-distance.js'

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps of neighbours as one edit each', () => {
    assert.equal(editDistance('services', 'services'), 0)
    assert.equal(editDistance('servics', 'services'), 1)
    assert.equal(editDistance('servicess', 'services'), 1)
    assert.equal(editDistance('sarvices', 'services'), 1)
    assert.equal(editDistance('replicsa', 'replicas'), 1)
    assert.equal(editDistance('', 'abc'), 3)
    assert.equal(editDistance('kitten', 'sitting'), 3)
  })
})

describe('closestMatch', () => {
  const keys = ['namespacePrefix', 'templatesDir', 'services', 'types', 'lifetime', 'limits']

  it('suggests the nearest candidate for a likely typo, ignoring case', () => {
    assert.equal(closestMatch('servics', keys), 'services')
    assert.equal(closestMatch('lifetme', keys), 'lifetime')
    assert.equal(closestMatch('tpyes', keys), 'types')
    assert.equal(closestMatch('NamespacePrefix', keys), 'namespacePrefix')
  })

  it('suggests nothing when no candidate is close', () => {
    assert.equal(closestMatch('nonsense', keys), undefined)
    assert.equal(closestMatch('x', keys), undefined)
    assert.equal(closestMatch('servics', []), undefined)
  })
})
