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
    assert.deepEqual(
      run.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s+/)[0]),
      ['list0002', 'list0001'],
    )
    assert.match(run.stderr, /^State: memory store/m)
  })

  it('refuses --limit 0 with exit 2 and the E_USAGE document under --json', async () => {
    const run = await runInProcess(List, ['--limit', '0', '--json'], await worldWith(0))
    assert.equal(run.exitCode, 2, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {
      error: {code: 'E_USAGE', message: '--limit must be between 1 and 100, got 0.', hint: 'Use --page to see further rows.', exitCode: 2},
    })
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
    for (const [id, status] of [
      ['gone0001', 'destroyed'],
      ['fail0001', 'failed'],
      ['live0001', 'ready'],
    ] as const) {
      const demo = aNewDemo({id, status, createdAt: new Date('2026-11-25T11:00:00Z')})
      await world.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    }
    const run = await runInProcess(List, ['--status', 'all'], world)
    assert.equal(run.exitCode, 0, said(run))
    const cells = (id: string) =>
      run.stdout
        .split('\n')
        .find((line) => line.startsWith(id))
        ?.split(/\s{2,}/)
    assert.deepEqual(cells('gone0001')?.slice(1), ['<none>', 'recruiting-agency', 'destroyed', 'alice@example.com', '-', '-'])
    assert.deepEqual(cells('fail0001')?.slice(5), ['-', '-'])
    assert.deepEqual(cells('live0001')?.slice(5), ['1h 00m', 'https://portal-live0001.demo.localhost'])
  })
})

describe('--config that names no file (in process)', () => {
  it('is refused by list and get too (exit 2), although they never load the config', async () => {
    const world = await worldWith(0)
    for (const [command, args] of [
      [List, []],
      [Get, ['abcdefgh']],
    ] as const) {
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
    assert.match(
      run.stdout,
      new RegExp(`^demo-cli/\\d+\\.\\d+\\.\\d+ ${process.platform}-${process.arch} node-${process.version.replaceAll('.', '\\.')}\\n$`),
    )
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
    assert.deepEqual(
      filtered.result?.demos.map((d) => d.id),
      ['bobs0001'],
    )
    const old = await runInProcess<{demos: Array<{id: string}>}>(List, ['--owner', 'bob@example.com', '--json'], world)
    assert.deepEqual(
      old.result?.demos.map((d) => d.id),
      ['bobs0001'],
    )
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

  it('warns once about a demo of yours about to expire when the output is not a terminal, not on every refresh', async () => {
    const world = await worldWith(0)
    const soon = aNewDemo({id: 'soon0001', createdBy: 'alice@example.com', expiresAt: new Date(world.clock.now().getTime() + 10 * 60_000)})
    await world.store.insert(soon, BIG_CAPS, aCreatedEvent(soon))
    world.sleeper.onSleep = (_ms, index) => {
      if (index === 2) world.cancel.abort(new Error('interrupted by Ctrl-C'))
      return Promise.resolve()
    }
    const run = await runInProcess(List, ['--watch'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.equal(run.stdout.split(/^--- .*$/m).filter((part) => part.trim() !== '').length, 3, 'three tables')
    assert.equal(run.stderr.match(/Your demo soon0001 expires in/g)?.length, 1, run.stderr)
  })

  it('refuses --watch with --json (exit 2)', async () => {
    const run = await runInProcess(List, ['--watch', '--json'], await worldWith(0))
    assert.equal(run.exitCode, 2, said(run))
  })
})

interface ListJson {
  demos: Array<{id: string; status: string; createdBy: string; type: string; expiresIn: string}>
  total: number
  page: number
  limit: number
}

/** Demos of two owners, three types and five statuses, created a minute apart (lista005 newest). */
async function worldOfOwnersTypesAndStatuses(): Promise<World> {
  const world = new World()
  const minute = (n: number) => new Date(Date.UTC(2026, 10, 25, 11, n))
  await world.aStoredDemo({id: 'lista001', createdBy: 'ann@example.com', demoType: 'startup', status: 'ready', createdAt: minute(1)})
  await world.aStoredDemo({id: 'lista002', createdBy: 'ann@example.com', demoType: 'enterprise', status: 'creating', createdAt: minute(2)})
  await world.aStoredDemo({id: 'lista003', createdBy: 'ben@example.com', demoType: 'enterprise', status: 'degraded', createdAt: minute(3)})
  await world.aStoredDemo({id: 'lista004', createdBy: 'ben@example.com', demoType: 'startup', status: 'destroyed', createdAt: minute(4)})
  await world.aStoredDemo({id: 'lista005', createdBy: 'ann@example.com', demoType: 'recruiting-agency', status: 'failed', createdAt: minute(5)})
  return world
}

describe('demo list --json (in process)', () => {
  it('prints an empty page as JSON, with nothing but JSON on stdout', async () => {
    const run = await runInProcess(List, ['--json'], new World())
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {demos: [], total: 0, page: 1, limit: 25})
  })

  it('gives every demo view and the paging', async () => {
    const run = await runInProcess<ListJson>(List, ['--json', '--status', 'all'], await worldOfOwnersTypesAndStatuses())
    assert.equal(run.exitCode, 0, said(run))
    const page = JSON.parse(run.stdout) as ListJson
    assert.equal(page.total, 5)
    assert.deepEqual(
      page.demos.map((d) => d.id),
      ['lista005', 'lista004', 'lista003', 'lista002', 'lista001'],
    )
    const [first] = page.demos
    for (const key of [
      'id',
      'name',
      'namespace',
      'type',
      'status',
      'createdBy',
      'portalUrl',
      'candidateUrl',
      'createdAt',
      'expiresAt',
      'expiresIn',
      'expiresInSeconds',
      'database',
    ]) {
      assert.ok(first && key in first, `missing ${key}`)
    }
    assert.equal(page.demos.find((d) => d.id === 'lista004')?.expiresIn, '-')
  })
})

describe('demo list filters (in process)', () => {
  it('filters by status, owner, type and --mine', async () => {
    const world = await worldOfOwnersTypesAndStatuses()
    const ids = async (args: string[], env?: NodeJS.ProcessEnv) => {
      const run = await runInProcess<ListJson>(List, ['--json', ...args], world, {env})
      assert.equal(run.exitCode, 0, said(run))
      return run.result?.demos.map((d) => d.id)
    }
    assert.deepEqual(await ids(['--status', 'failed', '--status', 'destroyed']), ['lista005', 'lista004'])
    assert.deepEqual(await ids(['--created-by', 'ann@example.com']), ['lista002', 'lista001'])
    assert.deepEqual(await ids(['--status', 'all', '--type', 'startup']), ['lista004', 'lista001'])
    assert.deepEqual(await ids(['--status', 'all', '--type', 'enterprise', '--created-by', 'ben@example.com']), ['lista003'])
    assert.deepEqual(await ids(['--mine', '--status', 'all']), [], 'alice owns none of them')
    assert.deepEqual(await ids(['--mine'], {DEMO_USER: 'ann@example.com'}), ['lista002', 'lista001'])
  })

  it('refuses an unknown status with exit 2 and a hint', async () => {
    const run = await runInProcess(List, ['--status', 'running'], await worldOfOwnersTypesAndStatuses())
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /^Error: Unknown status "running"\.\nHint: Use one of: live, all/m)
    assert.equal(run.stdout, '')
  })

  it('shows a failed demo whose namespace was kept by default, and not one that was cleaned up', async () => {
    const world = new World()
    await world.aStoredDemo({id: 'keeper01', status: 'failed', metadata: {cleanup: 'kept'}})
    await world.aStoredDemo({id: 'keeper02', status: 'failed', metadata: {cleanup: 'done'}})
    const run = await runInProcess<ListJson>(List, ['--json'], world)
    assert.deepEqual(
      run.result?.demos.map((d) => [d.id, d.status]),
      [['keeper01', 'failed']],
    )
  })
})

describe('demo list --page and --limit (in process)', () => {
  async function worldOfPagers(count: number): Promise<World> {
    const world = new World()
    for (let i = 0; i < count; i++) {
      await world.aStoredDemo({id: `pager${String(i).padStart(3, '0')}`, createdAt: new Date(Date.UTC(2026, 10, 25, 11, 0, i))})
    }
    return world
  }

  it('returns the requested page and the total', async () => {
    const world = await worldOfPagers(30)
    const page3 = await runInProcess<ListJson>(List, ['--json', '--limit', '10', '--page', '3'], world)
    assert.deepEqual([page3.result?.total, page3.result?.page, page3.result?.limit, page3.result?.demos.length], [30, 3, 10, 10])
    assert.equal(page3.result?.demos[0]?.id, 'pager009')
    assert.equal(page3.result?.demos.at(-1)?.id, 'pager000')
    const page4 = await runInProcess<ListJson>(List, ['--json', '--limit', '10', '--page', '4'], world)
    assert.deepEqual([page4.result?.total, page4.result?.demos.length], [30, 0])
  })

  it('accepts --limit 100 and refuses --limit 101 with exit 2 and a hint', async () => {
    const world = await worldOfPagers(101)
    const ok = await runInProcess<ListJson>(List, ['--json', '--limit', '100'], world)
    assert.equal(ok.exitCode, 0, said(ok))
    assert.equal(ok.result?.demos.length, 100)
    const run = await runInProcess(List, ['--limit', '101'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.equal(run.stderr, 'Error: --limit must be between 1 and 100, got 101.\nHint: Use --page to see further rows.\n')
    assert.equal(run.stdout, '')
  })

  it('reports --limit 101 as a JSON error with the same exit code under --json', async () => {
    const run = await runInProcess(List, ['--limit', '101', '--json'], new World())
    assert.equal(run.exitCode, 2, said(run))
    assert.deepEqual(JSON.parse(run.stdout), {
      error: {code: 'E_USAGE', message: '--limit must be between 1 and 100, got 101.', hint: 'Use --page to see further rows.', exitCode: 2},
    })
  })
})

describe('flags oclif refuses (in process)', () => {
  it('are usage errors (exit 2) in the same compact --json shape as ours', async () => {
    const unknown = await runInProcess(List, ['--bogus', '--json'], new World())
    assert.equal(unknown.exitCode, 2, said(unknown))
    assert.deepEqual(JSON.parse(unknown.stdout), {
      error: {
        code: 'E_USAGE',
        message: 'Nonexistent flag: --bogus',
        hint: 'Run the command with --help to see its flags and arguments.',
        exitCode: 2,
      },
    })
    const notInteger = await runInProcess(List, ['--limit', 'ten', '--json'], new World())
    assert.equal(notInteger.exitCode, 2, said(notInteger))
    assert.match(
      (JSON.parse(notInteger.stdout) as {error: {message: string}}).error.message,
      /^Parsing --limit Expected an integer but received: ten$/,
    )
    assert.doesNotMatch(notInteger.stdout, /pjson|devDependencies/)
  })
})
