// demo config (personal preferences) in process: a real preferences file in the World's directory, checked
// against the World's demo.config.yaml. create reading the preferences through the built CLI stays in
// test/e2e/create-destroy.test.ts ("personal preferences").
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import ConfigGet from '../../../src/commands/config/get.js'
import ConfigList from '../../../src/commands/config/list.js'
import ConfigSet from '../../../src/commands/config/set.js'
import ConfigUnset from '../../../src/commands/config/unset.js'
import {runInProcess, said, World} from '../../support/in-process.js'

function preferencesFileOf(world: World): string {
  return join(world.dir, 'preferences', 'preferences.json')
}

describe('demo config list (in process)', () => {
  it('lists no preferences at first, and where they would be stored', async () => {
    const world = new World()
    const prefsFile = preferencesFileOf(world)
    const run = await runInProcess(ConfigList, ['--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {preferences: {}, path: prefsFile})
    const human = await runInProcess(ConfigList, [], world)
    assert.match(human.stdout, /type\s+\(not set\)\nduration\s+\(not set\)/)
    assert.match(human.stderr, new RegExp(`Stored in ${prefsFile.replaceAll('/', '\\/')}`))
  })

  it('reports a corrupt preferences file with its path (exit 2) and does not overwrite it', async () => {
    const world = new World()
    const file = preferencesFileOf(world)
    mkdirSync(join(world.dir, 'preferences'))
    writeFileSync(file, '{"type": "startup",')
    const list = await runInProcess(ConfigList, [], world)
    assert.equal(list.exitCode, 2, said(list))
    assert.equal(
      list.stderr,
      `Error: Preferences file ${file} is not a JSON object.\nHint: Fix or delete ${file}; \`demo config set\` then starts a new one.\n`,
    )
    const set = await runInProcess(ConfigSet, ['type', 'startup'], world)
    assert.equal(set.exitCode, 2, said(set))
    assert.equal(readFileSync(file, 'utf8'), '{"type": "startup",')
  })
})

describe('demo config set refusals (in process)', () => {
  it('refuses an unknown type with exit 2 and writes nothing', async () => {
    const world = new World()
    const run = await runInProcess(ConfigSet, ['type', 'megacorp'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.equal(
      run.stderr,
      'Error: Unknown demo type "megacorp".\nHint: Use one of: recruiting-agency, enterprise, startup (the types in demo.config.yaml).\n',
    )
    assert.equal(existsSync(preferencesFileOf(world)), false)
  })

  for (const [value, message] of [
    ['10h', /^Error: duration must be between 1h and 8h, got 10h\.\nHint: Run `demo config set duration 2h`/],
    ['30m', /^Error: duration must be between 1h and 8h, got 30m\./],
    ['soon', /^Error: Cannot parse duration "soon"\./],
  ] as const) {
    it(`refuses duration "${value}" with exit 2 and writes nothing`, async () => {
      const world = new World()
      const run = await runInProcess(ConfigSet, ['duration', value], world)
      assert.equal(run.exitCode, 2, said(run))
      assert.match(run.stderr, message)
      assert.match(run.stderr, /\nHint: /)
      assert.equal(existsSync(preferencesFileOf(world)), false)
    })
  }

  it('refuses an unknown key with exit 2', async () => {
    const run = await runInProcess(ConfigSet, ['colour', 'blue', '--json'], new World())
    assert.equal(run.exitCode, 2, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {
      error: {code: 'E_USAGE', message: 'Unknown preference "colour".', hint: 'Use one of: type, duration.', exitCode: 2},
    })
  })

  it("checks types against the project's own demo.config.yaml", async () => {
    const world = new World({types: {trial: {description: 'A trial'}}, lifetime: {maxHours: 4}})
    assert.equal((await runInProcess(ConfigSet, ['type', 'startup'], world)).exitCode, 2)
    assert.equal((await runInProcess(ConfigSet, ['duration', '5h'], world)).exitCode, 2)
    const run = await runInProcess(ConfigSet, ['type', 'trial', '--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {key: 'type', value: 'trial', path: preferencesFileOf(world)})
  })

  it('keeps a valid value when a later set is refused', async () => {
    const world = new World()
    assert.equal((await runInProcess(ConfigSet, ['duration', '2h'], world)).exitCode, 0)
    assert.equal((await runInProcess(ConfigSet, ['duration', '99h'], world)).exitCode, 2)
    assert.equal((await runInProcess(ConfigGet, ['duration'], world)).stdout, '2h\n')
  })
})

describe('demo config set, get and unset (in process)', () => {
  it('sets, gets and unsets a type and a duration', async () => {
    const world = new World()
    const prefsFile = preferencesFileOf(world)
    const setType = await runInProcess(ConfigSet, ['type', 'startup'], world)
    assert.equal(setType.exitCode, 0, said(setType))
    assert.equal(setType.stdout, 'type = startup\n')
    assert.equal((await runInProcess(ConfigSet, ['duration', '90m'], world)).exitCode, 0)
    assert.deepEqual(JSON.parse(readFileSync(prefsFile, 'utf8')), {type: 'startup', duration: '90m'})

    const get = await runInProcess(ConfigGet, ['duration'], world)
    assert.deepEqual([get.exitCode, get.stdout], [0, '90m\n'])
    assert.deepEqual(JSON.parse((await runInProcess(ConfigGet, ['type', '--json'], world)).stdout), {key: 'type', value: 'startup', path: prefsFile})
    assert.deepEqual(JSON.parse((await runInProcess(ConfigList, ['--json'], world)).stdout), {
      preferences: {type: 'startup', duration: '90m'},
      path: prefsFile,
    })

    const unset = await runInProcess(ConfigUnset, ['type', '--json'], world)
    assert.deepEqual(JSON.parse(unset.stdout), {key: 'type', removed: true, path: prefsFile})
    const again = await runInProcess(ConfigUnset, ['type', '--json'], world)
    assert.equal(again.exitCode, 0, 'unset is idempotent')
    assert.deepEqual(JSON.parse(again.stdout), {key: 'type', removed: false, path: prefsFile})

    const getUnset = await runInProcess(ConfigGet, ['type'], world)
    assert.deepEqual([getUnset.exitCode, getUnset.stdout], [0, ''])
    assert.match(getUnset.stderr, /type is not set/)
    assert.deepEqual(JSON.parse((await runInProcess(ConfigGet, ['type', '--json'], world)).stdout), {key: 'type', value: null, path: prefsFile})
  })
})
