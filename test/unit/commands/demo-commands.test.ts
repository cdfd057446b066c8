// Commands run in process against fakes: what a person sees and the exit code, for the paths that need no
// real process (signals, pipes and the built bundle are in test/e2e).
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import Create, {maskSecrets} from '../../../src/commands/create.js'
import {MASK} from '../../../src/render.js'
import Destroy from '../../../src/commands/destroy.js'
import Extend from '../../../src/commands/extend.js'
import Get from '../../../src/commands/get.js'
import {FakeCluster} from '../../fakes/fake-cluster.js'
import {runInProcess, said, ScriptedPrompt, World} from '../../support/in-process.js'

/** Bytes 0, 1, 2 ... (the World's random) make the id "abcdefgh". */
const ID = 'abcdefgh'

async function worldWithDemo(args: string[] = []): Promise<World> {
  const world = new World()
  const created = await runInProcess(Create, ['--type', 'startup', ...args], world)
  assert.equal(created.exitCode, 0, said(created))
  return world
}

describe('demo create (in process)', () => {
  it('creates a ready demo and prints its URLs on stdout', async () => {
    const world = new World()
    const run = await runInProcess(Create, ['--type', 'startup'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, new RegExp(`^Demo ${ID} is ready \\(startup,`, 'm'))
    assert.equal((await world.store.get(ID))?.status, 'ready')
  })

  it('refuses an unknown type with exit 2 and writes nothing', async () => {
    const world = new World()
    const run = await runInProcess(Create, ['--type', 'nope', '--json'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.equal((JSON.parse(run.stdout) as {error: {code: string}}).error.code, 'E_USAGE')
    assert.equal(world.store.rows.size, 0)
    assert.equal(world.cluster.namespaces.size, 0)
  })
})

describe('demo extend (in process)', () => {
  it('refuses --context of a context the kubeconfig does not have: exit 2, and no extension is used up', async () => {
    const world = await worldWithDemo()
    const before = await world.store.get(ID)
    const run = await runInProcess(Extend, [ID, '--by', '1', '--context', 'other'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /^Error: The kubeconfig has no context "other"\.$/m)
    assert.deepEqual(await world.store.get(ID), before)
  })

  it('refuses --context of another existing context, as destroy does: exit 2, nothing written', async () => {
    const world = await worldWithDemo()
    world.clusters.set('other', new FakeCluster('other'))
    const before = await world.store.get(ID)
    const run = await runInProcess(Extend, [ID, '--by', '1', '--context', 'other'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /^Error: Demo "abcdefgh" lives in another cluster than the one kubeconfig context "other" points at/m)
    assert.deepEqual(await world.store.get(ID), before)
    const destroy = await runInProcess(Destroy, [ID, '--yes', '--context', 'other'], world)
    assert.equal(destroy.exitCode, 2, said(destroy))
  })

  it("with the demo's own context extends it and moves the namespace expiry", async () => {
    const world = await worldWithDemo()
    const run = await runInProcess<{namespaceExpiryUpdated: boolean; extensionCount: number}>(
      Extend,
      [ID, '--by', '1', '--context', 'test', '--json'],
      world,
    )
    assert.equal(run.exitCode, 0, said(run))
    assert.equal(run.result?.namespaceExpiryUpdated, true)
    assert.equal(run.result?.extensionCount, 1)
  })
})

describe('demo destroy confirmation (in process)', () => {
  it('--json without --yes says that --json needs --yes, even on a terminal', async () => {
    const world = await worldWithDemo()
    world.prompt = new ScriptedPrompt(true)
    const run = await runInProcess(Destroy, [ID, '--json'], world)
    assert.equal(run.exitCode, 2, said(run))
    const {error} = JSON.parse(run.stdout) as {error: {message: string; hint: string}}
    assert.match(error.message, /--json needs --yes/)
    assert.equal(error.hint, `Pass --yes: \`demo destroy ${ID} --yes\`.`)
    assert.equal((await world.store.get(ID))?.status, 'ready')
  })

  it('without a terminal and without --yes refuses with exit 2 and asks nothing', async () => {
    const world = await worldWithDemo()
    const prompt = new ScriptedPrompt(false)
    world.prompt = prompt
    const run = await runInProcess(Destroy, [ID], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /stdin is not a terminal/)
    assert.deepEqual(prompt.questions, [])
  })

  it('Ctrl-C at the question exits 130 and says calmly that nothing was changed', async () => {
    const world = await worldWithDemo()
    world.prompt = new ScriptedPrompt(true, 'cancelled')
    const run = await runInProcess(Destroy, [ID], world)
    assert.equal(run.exitCode, 130, said(run))
    assert.match(run.stderr, /^Error: Cancelled; nothing was changed\.$/m)
    assert.equal((await world.store.get(ID))?.status, 'ready')
    assert.equal(world.cluster.namespaces.has(`demo-${ID}`), true)
  })

  it('"no" leaves the demo alone with exit 1; "yes" destroys it', async () => {
    const world = await worldWithDemo()
    world.prompt = new ScriptedPrompt(true, 'no')
    const refused = await runInProcess(Destroy, [ID], world)
    assert.equal(refused.exitCode, 1, said(refused))
    assert.equal((await world.store.get(ID))?.status, 'ready')
    const prompt = new ScriptedPrompt(true, 'yes')
    world.prompt = prompt
    const destroyed = await runInProcess(Destroy, [ID], world)
    assert.equal(destroyed.exitCode, 0, said(destroyed))
    assert.match(prompt.questions[0] ?? '', new RegExp(`^Destroy demo ${ID} \\(startup, namespace demo-${ID}, owner alice@example.com\\)\\?$`))
    assert.equal((await world.store.get(ID))?.status, 'destroyed')
  })
})

describe('demo destroy lookup (in process)', () => {
  it('looks the demo up once (in the use case), and asks about the demo it found by an id prefix', async () => {
    const world = await worldWithDemo()
    const lookups: string[] = []
    const findByReference = world.store.findByReference.bind(world.store)
    world.store.findByReference = async (ref) => {
      lookups.push(ref)
      return findByReference(ref)
    }
    const prompt = new ScriptedPrompt(true, 'yes')
    world.prompt = prompt
    const run = await runInProcess(Destroy, [ID.slice(0, 4)], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(lookups, [ID.slice(0, 4)])
    assert.deepEqual(prompt.questions, [`Destroy demo ${ID} (startup, namespace demo-${ID}, owner alice@example.com)?`])
    assert.equal((await world.store.get(ID))?.status, 'destroyed')
  })
})

describe('demo destroy and the database mode (in process)', () => {
  it('destroys a demo of mode none while the config now asks for a mode this version lacks', async () => {
    const world = await worldWithDemo()
    world.writeConfig({database: {mode: 'shared-schema'}})
    const run = await runInProcess(Destroy, [ID, '--yes', '--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.equal((await world.store.get(ID))?.status, 'destroyed')
    assert.deepEqual(world.databases.dropped, [ID])
  })

  it('refuses a demo recorded with a mode this version lacks: exit 1, E_DATABASE_MODE naming it, row and namespace untouched', async () => {
    const world = await worldWithDemo()
    const row = world.store.rows.get(ID)
    assert.ok(row)
    row.database = {mode: 'shared-schema', schema: `demo_${ID}`, supabase: null}
    const run = await runInProcess(Destroy, [ID, '--yes', '--json'], world)
    assert.equal(run.exitCode, 1, said(run))
    const {error} = JSON.parse(run.stdout) as {error: {code: string; message: string}}
    assert.equal(error.code, 'E_DATABASE_MODE')
    assert.equal(
      error.message,
      `Cannot destroy demo "${ID}": its database has mode "shared-schema", which this version of demo cannot drop. Nothing was changed.`,
    )
    assert.equal((await world.store.get(ID))?.status, 'ready')
    assert.equal(world.cluster.namespaces.get(`demo-${ID}`)?.terminating, false)
    assert.deepEqual(world.databases.dropped, [])
  })
})

describe('demo get of a creating demo (in process)', () => {
  it('shows the live readiness from the cluster and what to do, after create --no-wait', async () => {
    const world = await worldWithDemo(['--no-wait'])
    const run = await runInProcess<{readiness: {kind: string; available: number; total: number}}>(Get, [ID], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, /^ {2}live: {8}6\/6 deployments Available: /m)
    assert.match(
      run.stdout,
      new RegExp(`^  next: +Every deployment is Available, but the create was not waited for .*\`demo destroy ${ID}\` removes it\\.$`, 'm'),
    )
    const json = await runInProcess<{readiness: {kind: string; available: number; total: number}}>(Get, [ID, '--json'], world)
    assert.deepEqual(
      {...json.result?.readiness, deployments: undefined, next: undefined},
      {kind: 'read', available: 6, total: 6, deployments: undefined, next: undefined},
    )
  })

  it('names the deployment that is not Available yet', async () => {
    const world = await worldWithDemo(['--no-wait'])
    world.cluster.setDeployment(`demo-${ID}`, 'portal', {available: false, reason: 'exceeded quota'})
    const run = await runInProcess(Get, [ID], world)
    assert.match(run.stdout, /^ {2}live: {8}5\/6 deployments Available: .*portal 0\/1 \(exceeded quota\)/m)
    assert.match(run.stdout, /Still coming up \(5\/6 deployments Available\)/)
  })

  it('says the readiness is unknown when the cluster cannot be reached, and still exits 0', async () => {
    const world = await worldWithDemo(['--no-wait'])
    world.clusters.clear()
    const run = await runInProcess(Get, [ID], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, /^ {2}live: {8}unknown \(The kubeconfig has no context "test"\.\)$/m)
  })

  it('shows no live line for a ready demo', async () => {
    const world = await worldWithDemo()
    const run = await runInProcess(Get, [ID], world)
    assert.doesNotMatch(run.stdout, /live:/)
  })
})

describe('naming a demo by more than its id (in process)', () => {
  it('get, extend and destroy accept the name, an id prefix and the namespace', async () => {
    const world = await worldWithDemo(['--name', 'sales-call'])
    const got = await runInProcess<{id: string}>(Get, ['sales-call', '--json'], world)
    assert.equal(got.exitCode, 0, said(got))
    assert.equal(got.result?.id, ID)
    const extended = await runInProcess<{extensionCount: number}>(Extend, ['abc', '--by', '1', '--json'], world)
    assert.equal(extended.exitCode, 0, said(extended))
    assert.equal(extended.result?.extensionCount, 1)
    const destroyed = await runInProcess(Destroy, [`demo-${ID}`, '--yes'], world)
    assert.equal(destroyed.exitCode, 0, said(destroyed))
    assert.match(destroyed.stdout, new RegExp(`^Destroyed demo ${ID}: namespace demo-${ID} is gone\\.$`, 'm'))
    assert.equal((await world.store.get(ID))?.status, 'destroyed')
  })

  it('refuses a reference that cannot name any demo with exit 2, before asking the cluster anything', async () => {
    const world = await worldWithDemo()
    const run = await runInProcess(Destroy, ['Not An Id', '--yes'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.match(run.stderr, /^Error: "Not An Id" is not a demo id, id prefix, name or namespace\.$/m)
    assert.equal((await world.store.get(ID))?.status, 'ready')
  })
})

describe('demo create --dry-run (in process)', () => {
  it('shows the demo id and type in the Secret, masks every other value, and creates nothing', async () => {
    const world = new World()
    const run = await runInProcess<{manifests: Array<{kind: string; stringData?: Record<string, string>}>}>(
      Create,
      ['--dry-run', '--json', '--type', 'startup'],
      world,
    )
    assert.equal(run.exitCode, 0, said(run))
    const secret = run.result?.manifests.find((m) => m.kind === 'Secret')
    assert.deepEqual(secret?.stringData, {DEMO_ID: ID, DEMO_TYPE: 'startup'})
    assert.equal(world.store.rows.size, 0)
    const masked = maskSecrets({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 's'},
      stringData: {DEMO_ID: ID, DATABASE_URL: 'postgres://u:pw@h/db'},
      data: {TOKEN: 'dG9rZW4='},
    })
    assert.deepEqual([masked.stringData, masked.data], [{DEMO_ID: ID, DATABASE_URL: MASK}, {TOKEN: MASK}])
  })
})

describe('demo create with a personal default the project does not allow (in process)', () => {
  it('says the value came from `demo config`, and how to override or drop it', async () => {
    const world = new World({types: {custom: {description: 'ours'}}})
    mkdirSync(world.env.DEMO_PREFERENCES_DIR as string, {recursive: true})
    writeFileSync(join(world.env.DEMO_PREFERENCES_DIR as string, 'preferences.json'), JSON.stringify({type: 'enterprise', duration: '12h'}))
    const typed = await runInProcess(Create, [], world)
    assert.equal(typed.exitCode, 2, said(typed))
    assert.match(
      typed.stderr,
      /^Error: Unknown demo type "enterprise": it is your default, from `demo config set type`, and this project's demo\.config\.yaml does not define it\.$/m,
    )
    assert.match(typed.stderr, /^Hint: Pass --type with one of: custom; or run `demo config unset type`\.$/m)
    const timed = await runInProcess(Create, ['--type', 'custom'], world)
    assert.equal(timed.exitCode, 2, said(timed))
    assert.match(timed.stderr, /^Error: Your default duration \(from `demo config set duration`\) must be between 1h and 8h, got 12h\.$/m)
    const flagged = await runInProcess(Create, ['--type', 'custom', '--duration', '12h'], world)
    assert.match(flagged.stderr, /^Error: --duration must be between 1h and 8h, got 12h\.$/m)
    assert.equal(world.store.rows.size, 0)
  })
})
