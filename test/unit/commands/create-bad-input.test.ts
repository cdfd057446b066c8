// demo create refusing bad input, in process: exit codes, messages and hints, and that nothing was written
// (no row, no namespace). Creating a demo on the real cluster stays in test/e2e/create-destroy.test.ts.
import assert from 'node:assert/strict'
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import Create from '../../../src/commands/create.js'
import {REPO_ROOT, runInProcess, said, World} from '../../support/in-process.js'

/** A World whose templatesDir is a copy of the built-in templates with `{{NOT_A_PLACEHOLDER}}` in ingress.yaml. */
function worldWithBrokenTemplate(): World {
  const world = new World()
  const templates = join(world.dir, 'templates')
  cpSync(join(REPO_ROOT, 'templates'), templates, {recursive: true})
  const ingress = join(templates, 'ingress.yaml')
  writeFileSync(ingress, readFileSync(ingress, 'utf8').replace('name: demo', 'name: "{{NOT_A_PLACEHOLDER}}"'))
  world.writeConfig({templatesDir: 'templates'})
  return world
}

function assertNothingWritten(world: World): void {
  assert.equal(world.store.rows.size, 0, 'no row was written')
  assert.equal(world.cluster.namespaces.size, 0, 'no namespace was created')
}

describe('demo create with bad input writes nothing (in process)', () => {
  const cases: Array<{why: string; args: string[]; world?: () => World; message: RegExp}> = [
    {why: 'an unknown type', args: ['--type', 'bank'], message: /Unknown demo type "bank".*\n.*recruiting-agency, enterprise, startup/},
    {why: 'a duration out of range', args: ['--duration', '9h'], message: /--duration must be between 1h and 8h/},
    {why: 'an unparseable duration', args: ['--duration', 'soon'], message: /Cannot parse --duration "soon"/},
    {why: 'an invalid name', args: ['--name', 'Bad Name!'], message: /Demo name "Bad Name!" is not allowed\./},
    {why: 'an unknown kubeconfig context', args: ['--context', 'nope'], message: /no context "nope"/},
    {why: 'a template with an unknown placeholder', args: [], world: worldWithBrokenTemplate, message: /NOT_A_PLACEHOLDER/},
  ]
  for (const c of cases) {
    it(`refuses ${c.why} (exit 2)`, async () => {
      const world = c.world?.() ?? new World()
      const run = await runInProcess(Create, c.args, world)
      assert.equal(run.exitCode, 2, said(run))
      assert.match(run.stderr, c.message)
      assert.match(run.stderr, /Hint: /)
      assertNothingWritten(world)
    })
  }

  it('refuses bad input before it even opens the state store', async () => {
    const world = new World()
    const run = await runInProcess(Create, ['--type', 'bank'], world)
    assert.equal(run.exitCode, 2, said(run))
    assert.equal(world.storeOpened, false)
  })

  it('refuses a create over the per-owner limit and lists what to destroy', async () => {
    const world = new World({limits: {perOwner: 1}})
    const asBob = {env: {DEMO_USER: 'bob@example.com'}}
    const first = await runInProcess<{id: string}>(Create, ['--type', 'startup', '--json'], world, asBob)
    assert.equal(first.exitCode, 0, said(first))
    const id = first.result?.id ?? ''
    const second = await runInProcess(Create, ['--type', 'startup'], world, asBob)
    assert.equal(second.exitCode, 1, said(second))
    assert.match(second.stderr, new RegExp(`bob@example.com already has 1 live demos \\(limit 1\\): ${id} \\(startup, ready`))
    assert.match(second.stderr, new RegExp(`Hint: Destroy one with \`demo destroy ${id}\``))
    assert.equal(world.store.rows.size, 1)
  })

  it('--dry-run prints every manifest (Secret values other than id and type masked) and creates nothing', async () => {
    const world = new World()
    const run = await runInProcess(Create, ['--dry-run', '--type', 'enterprise'], world)
    assert.equal(run.exitCode, 0, said(run))
    const kinds = [...run.stdout.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1])
    assert.equal(kinds[0], 'Namespace')
    for (const kind of ['ResourceQuota', 'LimitRange', 'NetworkPolicy', 'Secret', 'Deployment', 'Service', 'Ingress'])
      assert.ok(kinds.includes(kind), kind)
    const id = /demo-([a-z0-9]+)/.exec(run.stdout)?.[1]
    assert.ok(id)
    assert.match(run.stdout, new RegExp(`^  DEMO_ID: ${id}$`, 'm'), 'the id is no secret')
    assertNothingWritten(world)
  })
})
