import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {load} from 'js-yaml'
import Get from '../../../src/commands/get.js'
import List from '../../../src/commands/list.js'
import Version from '../../../src/commands/version.js'
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

describe('demo list paging (in process)', () => {
  it('says where the next page is on stderr, keeping stdout to the table', async () => {
    const run = await runInProcess(List, ['--limit', '2'], await worldWith(5))
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, /^Page 1 of 3 \(5 demos\); next: --page 2$/m)
    assert.doesNotMatch(run.stdout, /Page/)
  })

  it('offers no next page on the last page', async () => {
    const run = await runInProcess(List, ['--limit', '2', '--page', '3'], await worldWith(5))
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stderr, /^Page 3 of 3 \(5 demos\)$/m)
    assert.doesNotMatch(run.stderr, /next/)
  })

  it('says when a page is past the last one', async () => {
    const run = await runInProcess(List, ['--limit', '2', '--page', '4'], await worldWith(5))
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, /^No demos match\.$/m)
    assert.match(run.stderr, /^Page 4 is past the last page \(3; 5 demos\)\.$/m)
  })
})

describe('demo list rows (in process)', () => {
  it('shows "-" for the expiry and URL of failed and destroyed demos, and <none> for a missing name', async () => {
    const world = new World()
    for (const [id, status] of [['gone0001', 'destroyed'], ['fail0001', 'failed'], ['live0001', 'ready']] as const) {
      const demo = aNewDemo({id, status, createdAt: new Date('2026-11-25T11:00:00Z')})
      await world.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    }
    const run = await runInProcess(List, ['--status', 'all'], world)
    assert.equal(run.exitCode, 0, said(run))
    const cells = (id: string) => run.stdout.split('\n').find((line) => line.startsWith(id))?.split(/\s{2,}/)
    assert.deepEqual(cells('gone0001')?.slice(1), ['<none>', 'recruiting-agency', 'destroyed', 'alice@example.com', '-', '-'])
    assert.deepEqual(cells('fail0001')?.slice(5), ['-', '-'])
    assert.deepEqual(cells('live0001')?.slice(5), ['1h 00m', 'https://portal-live0001.demo.localhost'])
  })
})

describe('--config that names no file (in process)', () => {
  it('is refused by list and get too (exit 2), although they never load the config', async () => {
    const world = await worldWith(0)
    for (const [command, args] of [[List, []], [Get, ['abcdefgh']]] as const) {
      const run = await runInProcess(command, [...args, '--config', '/nonexistent.yaml'], world)
      assert.equal(run.exitCode, 2, said(run))
      assert.match(run.stderr, /^Error: Config file \/nonexistent\.yaml does not exist\.$/m)
    }
  })
})

describe('demo version (in process)', () => {
  it('prints the line --version prints, and the parts under --json', async () => {
    const run = await runInProcess<{version: string; node: string}>(Version, [], new World())
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, new RegExp(`^demo-cli/\\d+\\.\\d+\\.\\d+ ${process.platform}-${process.arch} node-${process.version.replaceAll('.', '\\.')}\\n$`))
    assert.equal(run.result?.node, process.version)
  })
})

describe('a mistyped flag (in process)', () => {
  it('suggests the flag that was meant, in text and under --json, with exit 2', async () => {
    const text = await runInProcess(List, ['--stauts', 'ready'], await worldWith(0))
    assert.equal(text.exitCode, 2, said(text))
    assert.match(text.error?.message ?? '', /^Did you mean --status\?$/m)
    const json = await runInProcess(List, ['--stauts', 'ready', '--json'], await worldWith(0))
    assert.equal(json.exitCode, 2, said(json))
    assert.match((JSON.parse(json.stdout) as {error: {hint: string}}).error.hint, /^Did you mean --status\? Run the command with --help/)
  })
})

describe('flags mean the same everywhere (in process)', () => {
  it('--created-by filters list; the old --owner spelling still works with a deprecation warning', async () => {
    const world = await worldWith(2)
    const bob = aNewDemo({id: 'bobs0001', createdBy: 'bob@example.com', createdAt: new Date('2026-11-25T11:30:00Z')})
    await world.store.insert(bob, BIG_CAPS, aCreatedEvent(bob))
    const filtered = await runInProcess<{demos: Array<{id: string}>}>(List, ['--created-by', 'bob@example.com', '--json'], world)
    assert.deepEqual(filtered.result?.demos.map((d) => d.id), ['bobs0001'])
    const old = await runInProcess<{demos: Array<{id: string}>}>(List, ['--owner', 'bob@example.com', '--json'], world)
    assert.deepEqual(old.result?.demos.map((d) => d.id), ['bobs0001'])
  })
})

describe('-o, --output (in process)', () => {
  it('-o name prints the ids, one per line, and nothing else on stdout', async () => {
    const run = await runInProcess(List, ['-o', 'name'], await worldWith(2))
    assert.equal(run.exitCode, 0, said(run))
    assert.equal(run.stdout, 'list0002\nlist0001\n')
  })

  it('-o yaml prints the same document as --json, in YAML', async () => {
    const world = await worldWith(1)
    const yaml = await runInProcess(List, ['-o', 'yaml'], world)
    const json = await runInProcess(List, ['--json'], world)
    assert.deepEqual(load(yaml.stdout), JSON.parse(json.stdout))
    assert.match(yaml.stdout, /^demos:\n {2}- id: list0001$/m)
  })

  it('-o json is --json', async () => {
    const world = await worldWith(1)
    assert.equal((await runInProcess(List, ['-o', 'json'], world)).stdout, (await runInProcess(List, ['--json'], world)).stdout)
  })

  it('-o wide adds the namespace, the context and the creation time', async () => {
    const run = await runInProcess(List, ['-o', 'wide'], await worldWith(1))
    assert.match(run.stdout, /^ID\s+NAME\s+TYPE\s+STATUS\s+OWNER\s+EXPIRES IN\s+NAMESPACE\s+CONTEXT\s+CREATED\s+PORTAL$/m)
    assert.match(run.stdout, /^list0001 .* demo-list0001\s+test\s+2026-11-25 \d\d:01 \S+\s+https:/m)
  })

  it('refuses an unknown format with exit 2', async () => {
    const run = await runInProcess(List, ['-o', 'table'], await worldWith(0))
    assert.equal(run.exitCode, 2, said(run))
  })

  it('with -o name an error goes to stderr as text, stdout stays empty', async () => {
    const run = await runInProcess(Get, ['zzzzzzzz', '-o', 'name'], await worldWith(0))
    assert.equal(run.exitCode, 1, said(run))
    assert.equal(run.stdout, '')
    assert.match(run.stderr, /^Error: /m)
  })
})

describe('list --watch (in process)', () => {
  it('shows the table again every 2 s, with what changed, until Ctrl-C ends it with exit 0', async () => {
    const world = await worldWith(1)
    world.sleeper.onSleep = async (_ms, index) => {
      if (index === 0) {
        const demo = aNewDemo({id: 'late0001', createdAt: new Date('2026-11-25T11:59:00Z')})
        await world.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
      }
      if (index === 1) world.cancel.abort(new Error('interrupted by Ctrl-C'))
    }
    const run = await runInProcess(List, ['--watch'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(world.sleeper.slept, [2000, 2000])
    const tables = run.stdout.split(/^--- .*$/m).filter((part) => part.trim() !== '')
    assert.equal(tables.length, 2)
    assert.doesNotMatch(tables[0] ?? '', /late0001/)
    assert.match(tables[1] ?? '', /^late0001 /m)
  })

  it('refuses --watch with --json (exit 2)', async () => {
    const run = await runInProcess(List, ['--watch', '--json'], await worldWith(0))
    assert.equal(run.exitCode, 2, said(run))
  })
})
