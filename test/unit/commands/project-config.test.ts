// A broken demo.config.yaml, in process: every command that loads it fails with exit 2, naming the file and
// the key, before touching the state. Finding the file from a subdirectory (the cwd of a real process) stays in
// test/e2e/state-commands.test.ts.
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import Create from '../../../src/commands/create.js'
import Extend from '../../../src/commands/extend.js'
import List from '../../../src/commands/list.js'
import {runInProcess, said, World} from '../../support/in-process.js'

function brokenConfig(text: string): {world: World; file: string} {
  const world = new World()
  world.writeConfig(text)
  return {world, file: join(world.dir, 'demo.config.yaml')}
}

describe('a malformed demo.config.yaml (in process)', () => {
  it('fails with exit 2, naming the file and the key, before touching the state', async () => {
    const {world, file} = brokenConfig('lifetime:\n  maxExtendHours: "four"\n')
    const before = await world.aStoredDemo({id: 'badcfg01'})
    const run = await runInProcess(Extend, ['badcfg01', '--by', '1'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.ok(run.stderr.startsWith(`Error: ${file}: "lifetime.maxExtendHours": `), run.stderr)
    assert.match(run.stderr, new RegExp(`Hint: Edit ${file.replaceAll('/', '\\/')}`))
    assert.deepEqual(await world.store.get('badcfg01'), before)
  })

  it('names an unknown key', async () => {
    const {world, file} = brokenConfig('lifetme:\n  maxHours: 4\n')
    const run = await runInProcess(Create, ['--dry-run', '--json'], world)
    assert.equal(run.exitCode, 2, said(run))
    const {error} = JSON.parse(run.stdout) as {error: {code: string; message: string}}
    assert.equal(error.code, 'E_CONFIG')
    assert.ok(error.message.startsWith(`${file}: `), error.message)
    assert.match(error.message, /lifetme/)
    // list and get only read the state: they do not load the project config, so a broken one does not stop them.
    assert.equal((await runInProcess(List, ['--json'], world)).exitCode, 0)
  })

  it('reports invalid YAML with the file and the position', async () => {
    const {world, file} = brokenConfig('lifetime:\n  maxHours: [4\n')
    const run = await runInProcess(Create, ['--dry-run'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, new RegExp(`^Error: ${file.replaceAll('/', '\\/')} is not valid YAML: .*\\(\\d+:\\d+\\)\\nHint: `))
  })
})
