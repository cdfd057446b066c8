import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {normalizeArgv} from '../../src/argv.js'

describe('normalizeArgv', () => {
  it('moves --json from before the command to after it', () => {
    assert.deepEqual(normalizeArgv(['--json', 'list', '--mine']), ['list', '--mine', '--json'])
  })

  it('turns `<command> help` into `help <command>`', () => {
    assert.deepEqual(normalizeArgv(['create', 'help']), ['help', 'create'])
  })

  it('passes everything else through unchanged', () => {
    for (const argv of [['list', '--json'], ['get', 'abcdefgh'], ['--help'], ['--version'], [], ['config', 'set', 'type', 'help'], ['--json']]) {
      assert.deepEqual(normalizeArgv(argv), argv)
    }
  })
})
