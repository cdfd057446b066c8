// demo extend in process against the memory store: messages, refusals and what they leave unchanged. The
// happy path against the real table (the built CLI writing the row and its event) stays in
// test/e2e/state-commands.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import Extend from '../../../src/commands/extend.js'
import {runInProcess, said, World} from '../../support/in-process.js'

const HOUR = 3_600_000

interface ErrorJson {
  error: {code: string; message: string; hint: string; exitCode: number}
}

describe('demo extend (in process)', () => {
  it('says what it did in human output', async () => {
    const world = new World()
    await world.aStoredDemo({id: 'extend02'})
    const run = await runInProcess(Extend, ['extend02', '--by', '1'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, /^Extended extend02: now expires at .* \(in 3h 00m\); extension 1 of 3\.\n$/)
  })

  for (const by of ['5', '0', '0.5', '30m', 'abc']) {
    it(`refuses --by ${by} with exit 2 and leaves the row unchanged`, async () => {
      const world = new World()
      const before = await world.aStoredDemo({id: 'extbad01'})
      const run = await runInProcess(Extend, ['extbad01', '--by', by], world)
      assert.equal(run.exitCode, 2, said(run))
      const expected =
        by === 'abc'
          ? /^Error: Cannot parse --by "abc"\.\nHint: /
          : /^Error: --by must be between 1h and 4h, got .*\.\nHint: Run `demo extend .* --by 2h`\.\n$/
      assert.match(run.stderr, expected)
      assert.deepEqual(await world.store.get('extbad01'), before)
    })
  }

  it('still takes the deprecated --hours spelling (a duration: 90m adds an hour and a half), with a warning on stderr', async () => {
    const world = new World()
    const before = await world.aStoredDemo({id: 'extdur01'})
    const run = await runInProcess(Extend, ['extdur01', '--hours', '90m'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, /^Warning: .*--hours.*deprecated.*--by/im)
    const after = await world.store.get('extdur01')
    assert.equal((after?.expiresAt.getTime() ?? 0) - before.expiresAt.getTime(), 1.5 * HOUR)
    assert.equal(after?.extensionCount, 1)
  })

  it('warns about the deprecated --hours under --json too (oclif would drop the warning), keeping stdout JSON', async () => {
    const world = new World()
    await world.aStoredDemo({id: 'extdur02'})
    const run = await runInProcess(Extend, ['extdur02', '--hours', '90m', '--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, /^Warning: .*--hours.*deprecated.*--by/im)
    assert.equal((JSON.parse(run.stdout) as {extensionCount: number}).extensionCount, 1)
  })

  it('refuses someone who is not the owner (exit 1) and leaves the row unchanged', async () => {
    const world = new World()
    const before = await world.aStoredDemo({id: 'extend03', createdBy: 'alice@example.com'})
    const run = await runInProcess(Extend, ['extend03', '--by', '1', '--json'], world, {env: {DEMO_USER: 'mallory@example.com'}})
    assert.equal(run.exitCode, 1, said(run))
    const {error} = JSON.parse(run.stdout) as ErrorJson
    assert.equal(error.code, 'E_PERMISSION')
    assert.match(error.message, /belongs to alice@example\.com, and you are mallory@example\.com/)
    assert.match(error.hint, /admins/)
    assert.deepEqual(await world.store.get('extend03'), before)
  })

  it("lets an admin named in demo.config.yaml extend someone else's demo", async () => {
    const world = new World({admins: ['root@example.com']})
    await world.aStoredDemo({id: 'extend04', createdBy: 'alice@example.com'})
    const run = await runInProcess(Extend, ['extend04', '--by', '1', '--json'], world, {env: {DEMO_USER: 'root@example.com'}})
    assert.equal(run.exitCode, 0, said(run))
    assert.equal((await world.store.get('extend04'))?.extensionCount, 1)
  })

  it('refuses a destroyed demo with exit 1 and a hint', async () => {
    const world = new World()
    const before = await world.aStoredDemo({id: 'extend05', status: 'destroyed'})
    const run = await runInProcess(Extend, ['extend05', '--by', '1'], world)
    assert.equal(run.exitCode, 1, said(run))
    assert.match(run.stderr, /^Error: Cannot extend demo "extend05": it is destroyed\.\nHint: /)
    assert.deepEqual(await world.store.get('extend05'), before)
  })

  it('refuses an unknown id with exit 1', async () => {
    const run = await runInProcess(Extend, ['nosuchid', '--by', '1'], new World())
    assert.equal(run.exitCode, 1, said(run))
    assert.match(run.stderr, /^Error: No demo matches "nosuchid"/)
  })
})
