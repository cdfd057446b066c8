import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {Config} from '@oclif/core'
import {socketPathFor} from '../../src/adapters/postgres/store-socket.js'
import {earlyStoreFor, oclifDataDir} from '../../src/store-prestart.js'

const REPO_ROOT = join(import.meta.dirname, '../..')
const HOME = {HOME: '/home/ada'}

describe('opening the state store before oclif loads (bin/run.js)', () => {
  it('is done for the commands that use the store, aliases and flags before the command included', () => {
    for (const argv of [['list', '--json'], ['ls'], ['create', '--type', 'startup'], ['rm', 'abc'], ['gc', '--json'], ['stats'], ['doctor']]) {
      assert.deepEqual(earlyStoreFor(argv, HOME), {kind: 'embedded', dir: '/home/ada/.local/share/demo/state'}, argv.join(' '))
    }
  })

  it('opens shared Postgres, DEMO_DATABASE_URL first, for the same commands', () => {
    const both = {...HOME, DEMO_DATABASE_URL: 'postgres://db/state', DATABASE_URL: 'postgres://other/db'}
    assert.deepEqual(earlyStoreFor(['destroy', 'abc', '--yes'], both), {kind: 'postgres', url: 'postgres://db/state'})
    assert.deepEqual(earlyStoreFor(['list'], {...HOME, DATABASE_URL: 'postgres://other/db'}), {kind: 'postgres', url: 'postgres://other/db'})
    assert.equal(earlyStoreFor(['create', '--dry-run'], both), undefined)
    assert.equal(earlyStoreFor(['config', 'get'], both), undefined)
  })

  it('is not done for help, a dry run, gc install/uninstall or commands without state', () => {
    for (const argv of [
      [],
      ['--version'],
      ['list', '--help'],
      ['create', '-h'],
      ['create', '--dry-run'],
      ['gc', 'install'],
      ['gc', 'uninstall'],
      ['config', 'get'],
      ['version'],
    ]) {
      assert.equal(earlyStoreFor(argv, HOME), undefined, argv.join(' '))
    }
  })

  it('finds the directory the command will use: DEMO_STATE_DIR first', () => {
    assert.deepEqual(earlyStoreFor(['list'], {...HOME, DEMO_STATE_DIR: '/srv/state'}), {kind: 'embedded', dir: '/srv/state'})
  })

  it("computes oclif's data directory as oclif does, whatever the environment says", async () => {
    const variants: NodeJS.ProcessEnv[] = [{}, {XDG_DATA_HOME: '/xdg/data'}, {DEMO_DATA_DIR: '/explicit/data'}, {HOME: '/elsewhere'}]
    const saved = {...process.env}
    try {
      for (const variant of variants) {
        for (const key of ['XDG_DATA_HOME', 'DEMO_DATA_DIR']) delete process.env[key]
        Object.assign(process.env, variant)
        const config = await Config.load(REPO_ROOT)
        assert.equal(oclifDataDir(process.env), config.dataDir, JSON.stringify(variant))
      }
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
  })

  it('puts the socket beside the data directory, or hashed into the temp directory when that path is too long for a socket', () => {
    assert.equal(socketPathFor('/home/ada/.local/share/demo/state', 'linux'), '/home/ada/.local/share/demo/state.sock')
    const deep = `/home/ada/${'very-long-directory-name/'.repeat(5)}state`
    assert.match(socketPathFor(deep, 'linux'), /\/demo-store-[0-9a-f]{24}\.sock$/)
    assert.match(socketPathFor('C:\\Users\\ada\\demo\\state', 'win32'), /^\\\\\.\\pipe\\demo-store-[0-9a-f]{24}$/)
  })
})
