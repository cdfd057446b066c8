// What list and get tell the owner of a demo about to expire (stderr only, also under --json), get's timings in
// step order and its history as sentences, and when colour is used.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import Get from '../../../src/commands/get.js'
import List from '../../../src/commands/list.js'
import {colorLevel} from '../../../src/colors.js'
import {runInProcess, said, World} from '../../support/in-process.js'

const NOW = new Date('2026-11-25T12:00:00.000Z')
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000)

describe('expiry warnings in list and get (in process)', () => {
  it('warns on stderr about your demos expiring within 30 minutes, with the extend command, and not about others', async () => {
    const world = new World()
    const soon = await world.aStoredDemo({expiresAt: minutes(20)})
    const later = await world.aStoredDemo({expiresAt: minutes(45)})
    const theirs = await world.aStoredDemo({expiresAt: minutes(10), createdBy: 'bob@example.com'})
    const run = await runInProcess(List, [], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, new RegExp(`Warning: Your demo ${soon.id} expires in 20m; keep it with \`demo extend ${soon.id} --by 1h\`\\.`))
    assert.doesNotMatch(run.stderr, new RegExp(`${later.id}|${theirs.id}`))
    assert.doesNotMatch(run.stdout, /Warning/)
  })

  it('keeps the warning on stderr under --json, so stdout stays the document', async () => {
    const world = new World()
    const soon = await world.aStoredDemo({expiresAt: minutes(5)})
    for (const [command, argv] of [
      [List, ['--json']],
      [Get, [soon.id, '--json']],
    ] as const) {
      const run = await runInProcess(command, [...argv], world)
      assert.equal(run.exitCode, 0, said(run))
      assert.match(run.stderr, new RegExp(`demo extend ${soon.id} --by 1h`))
      assert.doesNotThrow(() => JSON.parse(run.stdout))
    }
  })

  it('does not warn about an expired, destroyed or destroying demo', async () => {
    const world = new World()
    await world.aStoredDemo({expiresAt: minutes(-5)})
    await world.aStoredDemo({expiresAt: minutes(5), status: 'destroying'})
    await world.aStoredDemo({expiresAt: minutes(5), status: 'destroyed'})
    const run = await runInProcess(List, ['--status', 'all'], world)
    assert.doesNotMatch(run.stderr, /Warning/)
  })
})

describe('demo get timings and history (in process)', () => {
  it('prints phase timings in step order (the parts of a step after it) with total last, and the history as sentences', async () => {
    const world = new World()
    const demo = await world.aStoredDemo({status: 'creating'})
    const timings = {
      total: 40,
      wait: 30,
      'database.migrations': 0.05,
      'database.seed': 0.12,
      record: 0.1,
      services: 2,
      namespace: 1,
      ingress: 0.5,
      database: 0.2,
      secrets: 0.1,
      databaseCheck: 0.02,
    }
    const ready = await world.store.update(demo.id, demo.version, {status: 'ready', phaseTimings: timings})
    await world.store.update(
      demo.id,
      ready.version,
      {expiresAt: minutes(180)},
      {
        demoId: demo.id,
        type: 'extended',
        at: NOW,
        actor: 'alice@example.com',
        data: {hours: 1, from: minutes(120).toISOString(), to: minutes(180).toISOString()},
      },
    )
    const run = await runInProcess(Get, [demo.id], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(
      run.stdout,
      /timings: {5}databaseCheck 0\.02s, record 0\.1s, namespace 1s, database 0\.2s, database\.migrations 0\.05s, database\.seed 0\.12s, secrets 0\.1s, services 2s, ingress 0\.5s, wait 30s, total 40s\n/,
    )
    assert.match(run.stdout, / {2}extended by 1h by alice@example\.com \(now expires /)
    assert.doesNotMatch(run.stdout, /\{"hours"/)
  })
})

describe('colour', () => {
  it('is on for a terminal and off for a pipe, unless NO_COLOR, FORCE_COLOR or TERM=dumb say otherwise', () => {
    assert.equal(colorLevel({}, {isTTY: true}), 1)
    assert.equal(colorLevel({}, {isTTY: false}), 0)
    assert.equal(colorLevel({NO_COLOR: '1'}, {isTTY: true}), 0)
    assert.equal(colorLevel({NO_COLOR: ''}, {isTTY: true}), 1)
    assert.equal(colorLevel({TERM: 'dumb'}, {isTTY: true}), 0)
    assert.equal(colorLevel({FORCE_COLOR: '1'}, {isTTY: false}), 1)
    assert.equal(colorLevel({FORCE_COLOR: '3', NO_COLOR: '1'}, {isTTY: false}), 3)
    assert.equal(colorLevel({FORCE_COLOR: '0'}, {isTTY: true}), 0)
  })

  it('paints statuses in the list table only when asked, keeping the columns aligned', async () => {
    const world = new World()
    await world.aStoredDemo({status: 'degraded'})
    const plain = await runInProcess(List, [], world)
    assert.doesNotMatch(plain.stdout, /\u001B\[/)
    const coloured = await runInProcess(List, [], world, {env: {FORCE_COLOR: '1'}})
    assert.match(coloured.stdout, /\u001B\[33mdegraded\u001B\[39m/)
    assert.equal(coloured.stdout.replaceAll(/\u001B\[\d+m/g, ''), plain.stdout)
  })
})
