import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import List from '../../../src/commands/list.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../../fakes/builders.js'
import {runInProcess, said, World} from '../../support/in-process.js'

async function worldWith(count: number): Promise<World> {
  const world = new World()
  for (let i = 1; i <= count; i++) {
    const demo = aNewDemo({id: `list000${i}`, createdAt: new Date(Date.UTC(2026, 10, 25, 10, i))})
    await world.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
  }
  return world
}

describe('demo list (in process)', () => {
  it('prints the table on stdout and where the state lives on stderr', async () => {
    const run = await runInProcess(List, [], await worldWith(2))
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(run.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0]), ['list0002', 'list0001'])
    assert.match(run.stderr, /^State: memory store/m)
  })

  it('refuses --limit 0 with exit 2 and the E_USAGE document under --json', async () => {
    const run = await runInProcess(List, ['--limit', '0', '--json'], await worldWith(0))
    assert.equal(run.exitCode, 2, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {error: {code: 'E_USAGE', message: '--limit must be between 1 and 100, got 0.', hint: 'Use --page to see further rows.', exitCode: 2}})
  })

  it('refuses an unknown flag with exit 2', async () => {
    const run = await runInProcess(List, ['--stauts', 'ready'], await worldWith(0))
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.error?.message ?? '', /Nonexistent flag: --stauts/)
  })
})
