import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {Config} from '@oclif/core'
import {socketPathFor} from '../../src/adapters/postgres/store-socket.js'
import {oclifDataDir, storeDirectoryFor} from '../../src/store-prestart.js'

const REPO_ROOT = join(import.meta.dirname, '../..')
const HOME = {HOME: '/home/ada'}

describe('starting the embedded store server before oclif loads (bin/run.js)', () => {
  it('is done for the commands that use the store, aliases and flags before the command included', () => {
    for (const argv of [['list', '--json'], ['ls'], ['create', '--type', 'startup'], ['rm', 'abc'], ['gc', '--json'], ['stats'], ['doctor']]) {
      assert.equal(storeDirectoryFor(argv, HOME), '/home/ada/.local/share/demo/state', argv.join(' '))
    }
  })

  it('is not done for help, a dry run, gc install/uninstall, commands without state, or shared Postgres', () => {
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
      assert.equal(storeDirectoryFor(argv, HOME), undefined, argv.join(' '))
    }
    assert.equal(storeDirectoryFor(['list'], {...HOME, DEMO_DATABASE_URL: 'postgres://db/state'}), undefined)
    assert.equal(storeDirectoryFor(['list'], {...HOME, DATABASE_URL: 'postgres://db/state'}), undefined)
  })

  it('finds the directory the command will use: DEMO_STATE_DIR first', () => {
    assert.equal(storeDirectoryFor(['list'], {...HOME, DEMO_STATE_DIR: '/srv/state'}), '/srv/state')
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
