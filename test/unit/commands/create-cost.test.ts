// create's cost estimate and limits.monthlyBudget, in process against the memory store and its Stats fake.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import Create, {type CreateResultView} from '../../../src/commands/create.js'
import {runInProcess, said, World} from '../../support/in-process.js'

/** 2 CPU × 0.5 + 4 GiB × 0.25 = 2 an hour; a startup costs 1 an hour. */
const PRICED = {quota: {'requests.cpu': '2', 'requests.memory': '4Gi'}, cost: {currency: 'EUR', cpuHour: 0.5, gibHour: 0.25, typeHour: {startup: 1}}}

/** The world's clock says 2026-11-25 12:00 UTC; bob's demo is committed to 4 h × 2 = €8 this month. */
async function bobsDemo(world: World): Promise<void> {
  await world.aStoredDemo({
    createdBy: 'bob@example.com',
    demoType: 'recruiting-agency',
    createdAt: new Date('2026-11-25T10:00:00Z'),
    expiresAt: new Date('2026-11-25T14:00:00Z'),
  })
}

describe('demo create: estimated cost (in process)', () => {
  it('prints the estimated cost of the requested lifetime on stderr', async () => {
    const world = new World(PRICED)
    const run = await runInProcess(Create, ['--type', 'startup', '--duration', '2h'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, /^Estimated cost: €2\.00 \(2h 00m × €1\.00\/h: cost\.typeHour\.startup\)\.$/m)
    assert.doesNotMatch(run.stdout, /Estimated cost/)
  })

  it('prices a type without a fixed price by the quota requests', async () => {
    const world = new World(PRICED)
    const run = await runInProcess(Create, ['--type', 'enterprise', '--duration', '3h'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, /^Estimated cost: €6\.00 \(3h 00m × €2\.00\/h: 2 CPU × €0\.50 \+ 4 GiB × €0\.25\)\.$/m)
  })

  it('gives the estimate as a field under --json', async () => {
    const world = new World(PRICED)
    const run = await runInProcess<CreateResultView>(Create, ['--type', 'startup', '--duration', '90m', '--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    const doc = JSON.parse(run.stdout) as CreateResultView
    assert.deepEqual(doc.estimatedCost, {amount: 1.5, currency: 'EUR', hours: 1.5, perHour: 1, basis: 'cost.typeHour.startup'})
  })
})

describe('demo create: limits.monthlyBudget (in process)', () => {
  it('creates a demo that brings the month exactly to the budget', async () => {
    const world = new World({...PRICED, limits: {monthlyBudget: 10}})
    await bobsDemo(world)
    const run = await runInProcess(Create, ['--type', 'startup', '--duration', '2h'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.equal(world.store.rows.size, 2)
  })

  it('refuses one that would exceed it with E_LIMIT, the numbers and who spent them, before any Kubernetes call', async () => {
    const world = new World({...PRICED, limits: {monthlyBudget: 10}})
    await bobsDemo(world)
    const run = await runInProcess(Create, ['--type', 'startup', '--duration', '3h', '--json'], world)
    assert.equal(run.exitCode, 1, said(run))
    const {error} = JSON.parse(run.stdout) as {error: {code: string; message: string; hint: string}}
    assert.equal(error.code, 'E_LIMIT')
    assert.equal(
      error.message,
      'Cannot create a demo: it would take 2026-11 (UTC) over limits.monthlyBudget of €10.00: €8.00 is committed (bob@example.com €8.00) and this demo adds €3.00 (3h 00m × €1.00/h: cost.typeHour.startup), €11.00 in all.',
    )
    assert.match(error.hint, /raise limits\.monthlyBudget/)
    assert.equal(world.store.rows.size, 1)
    assert.deepEqual(world.cluster.calls, [])
  })

  it('counts only the part of the lifetime inside this month', async () => {
    const world = new World({...PRICED, limits: {monthlyBudget: 1}})
    world.clock.set('2026-11-30T23:00:00Z')
    const run = await runInProcess(Create, ['--type', 'startup', '--duration', '4h'], world)
    assert.equal(run.exitCode, 0, said(run))
  })

  it('refuses a budget that is not a positive number (exit 2)', async () => {
    const world = new World({...PRICED, limits: {monthlyBudget: 0}})
    const run = await runInProcess(Create, ['--type', 'startup'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /"limits\.monthlyBudget": 0 must be more than 0/)
  })
})
