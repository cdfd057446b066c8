// demo get in process against the memory store: errors, masking and naming a demo. The happy path against the
// real table (the built CLI reading a row and its events from Postgres) stays in test/e2e/state-commands.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import Extend from '../../../src/commands/extend.js'
import Get from '../../../src/commands/get.js'
import {runInProcess, said, World} from '../../support/in-process.js'

interface ErrorJson {
  error: {code: string; message: string; hint: string; exitCode: number}
}

describe('demo get of a demo that is not there (in process)', () => {
  it('fails with exit 1 and a hint for an unknown id', async () => {
    const run = await runInProcess(Get, ['nosuchid'], new World())
    assert.equal(run.exitCode, 1, said(run))
    assert.match(
      run.stderr,
      /^Error: No demo matches "nosuchid" \(by id, id prefix, name or namespace\) in the memory store\.\nHint: Run `demo list --status all` to see every demo\.\n$/,
    )
    assert.equal(run.stdout, '')
  })

  it('reports an unknown id as E_NOT_FOUND under --json', async () => {
    const run = await runInProcess(Get, ['nosuchid', '--json'], new World())
    assert.equal(run.exitCode, 1, said(run))
    const {error} = JSON.parse(run.stdout) as ErrorJson
    assert.equal(error.code, 'E_NOT_FOUND')
    assert.equal(error.exitCode, 1)
    assert.match(error.hint, /demo list --status all/)
  })

  it('refuses a reference that cannot name a demo with exit 2', async () => {
    const run = await runInProcess(Get, ['Not-An-Id'], new World())
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /^Error: "Not-An-Id" is not a demo id, id prefix, name or namespace\.\nHint: /)
  })
})

describe('demo get secrets (in process)', () => {
  it('masks the anon key in human output too, and shows it with --show-secrets', async () => {
    const world = new World()
    await world.aStoredDemo({
      id: 'getter01',
      database: {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: 'eyJ-anon-key-secret-value'},
    })
    const masked = await runInProcess(Get, ['getter01'], world)
    assert.equal(masked.exitCode, 0, said(masked))
    assert.match(masked.stdout, /anon key:\s+\*{8}/)
    assert.doesNotMatch(masked.stdout + masked.stderr, /eyJ-anon-key-secret-value/)
    const shown = await runInProcess(Get, ['getter01', '--show-secrets'], world)
    assert.match(shown.stdout, /anon key:\s+eyJ-anon-key-secret-value/)
    const shownJson = await runInProcess<{database: {supabaseAnonKey: string}}>(Get, ['getter01', '--show-secrets', '--json'], world)
    assert.equal(shownJson.result?.database.supabaseAnonKey, 'eyJ-anon-key-secret-value')
  })
})

describe('naming a demo by its name, an id prefix or its namespace (in process)', () => {
  async function worldWithNamedDemos(): Promise<World> {
    const world = new World()
    await world.aStoredDemo({id: 'named001', name: 'trade-show', createdBy: 'ann@example.com', createdAt: new Date('2026-11-25T11:40:00Z')})
    await world.aStoredDemo({id: 'named002', name: 'trade-show', createdBy: 'ben@example.com', createdAt: new Date('2026-11-25T11:50:00Z')})
    await world.aStoredDemo({id: 'solo0001', name: 'board-meeting', createdBy: 'ann@example.com'})
    return world
  }

  it('get finds a demo by its name, a unique id prefix and its namespace', async () => {
    const world = await worldWithNamedDemos()
    for (const ref of ['board-meeting', 'solo', 'demo-solo0001']) {
      const run = await runInProcess<{id: string}>(Get, [ref, '--json'], world)
      assert.equal(run.exitCode, 0, said(run))
      assert.equal(run.result?.id, 'solo0001')
    }
  })

  it('refuses a name two demos share with exit 2, listing both and hinting an exact id', async () => {
    const world = await worldWithNamedDemos()
    const run = await runInProcess(Get, ['trade-show'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(
      run.stderr,
      /^Error: "trade-show" could mean any of 2 demos:\n {2}named002 +trade-show +ready +ben@example\.com +created .* \S+\n {2}named001 +trade-show +ready +ann@example\.com +created .* \S+\nHint: Name one by its exact id: `demo get named002`\.\n$/,
    )
    const extend = await runInProcess(Extend, ['named0', '--by', '1', '--json'], world)
    const {error} = JSON.parse(extend.stdout) as ErrorJson
    assert.deepEqual([error.code, error.exitCode, extend.exitCode], ['E_USAGE', 2, 2])
  })
})
