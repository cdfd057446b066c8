// create's CI outputs (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, --output-env), in process against fakes. The same
// through the built CLI against the control plane: test/e2e/create-ci-outputs.test.ts.
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import Create from '../../../src/commands/create.js'
import {githubOutputLines} from '../../../src/adapters/ci-outputs.js'
import {parseGithubOutput} from '../../support/github-output.js'
import {runInProcess, said, World} from '../../support/in-process.js'

const ID = 'abcdefgh'

describe('demo create: CI outputs (in process)', () => {
  it('appends id, namespace, URLs and expiry to GITHUB_OUTPUT and a markdown summary to GITHUB_STEP_SUMMARY', async () => {
    const world = new World()
    const output = join(world.dir, 'github-output')
    const summary = join(world.dir, 'step-summary')
    writeFileSync(output, 'earlier=kept\n')
    const run = await runInProcess(Create, ['--type', 'startup'], world, {env: {GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary}})
    assert.equal(run.exitCode, 0, said(run))
    const text = readFileSync(output, 'utf8')
    assert.ok(text.startsWith('earlier=kept\n'), 'GITHUB_OUTPUT is appended to, not replaced')
    const demo = await world.store.get(ID)
    assert.deepEqual(parseGithubOutput(text), {
      id: ID,
      namespace: `demo-${ID}`,
      'portal-url': demo?.portalUrl,
      'candidate-url': demo?.candidateUrl,
      'expires-at': demo?.expiresAt.toISOString(),
    })
    const markdown = readFileSync(summary, 'utf8')
    assert.match(markdown, new RegExp(`^### Demo \`${ID}\` is ready$`, 'm'))
    assert.match(markdown, new RegExp(`^\\| Portal \\| https://portal-${ID}\\.demo\\.localhost \\|$`, 'm'))
    assert.match(markdown, new RegExp(`^Destroy it with \`demo destroy ${ID} --yes\`\\.$`, 'm'))
  })

  it('writes the same as KEY=value lines to --output-env, and nothing else', async () => {
    const world = new World()
    const run = await runInProcess(Create, ['--type', 'startup', '--output-env', 'demo.env'], world)
    assert.equal(run.exitCode, 0, said(run))
    const demo = await world.store.get(ID)
    assert.equal(
      readFileSync(join(world.dir, 'demo.env'), 'utf8'),
      [
        `DEMO_ID=${ID}`,
        `DEMO_NAMESPACE=demo-${ID}`,
        `DEMO_PORTAL_URL=${demo?.portalUrl}`,
        `DEMO_CANDIDATE_URL=${demo?.candidateUrl}`,
        `DEMO_EXPIRES_AT=${demo?.expiresAt.toISOString()}`,
        '',
      ].join('\n'),
    )
  })

  const unwritable: Array<[string, (world: World) => {argv: string[]; env: NodeJS.ProcessEnv; path: string}, RegExp]> = [
    [
      '--output-env in a directory that does not exist',
      (w) => ({argv: ['--output-env', join(w.dir, 'nope/demo.env')], env: {}, path: join(w.dir, 'nope/demo.env')}),
      /^Error: Cannot write --output-env file .*nope\/demo\.env: the directory .* does not exist\. Nothing was created\.\nHint: Give --output-env a file/,
    ],
    [
      '--output-env naming a directory',
      (w) => ({argv: ['--output-env', w.dir], env: {}, path: join(w.dir, 'never')}),
      /^Error: Cannot write --output-env file .*: it is a directory\./,
    ],
    [
      'a GITHUB_OUTPUT that cannot be written',
      (w) => ({argv: [], env: {GITHUB_OUTPUT: join(w.dir, 'nope/out')}, path: join(w.dir, 'nope/out')}),
      /^Error: Cannot write GITHUB_OUTPUT file .*\nHint: Unset GITHUB_OUTPUT or point it at a writable file\./,
    ],
  ]
  for (const [what, setUp, message] of unwritable) {
    it(`refuses ${what} with exit 2 before anything is created`, async () => {
      const world = new World()
      const {argv, env, path} = setUp(world)
      const run = await runInProcess(Create, ['--type', 'startup', ...argv], world, {env})
      assert.equal(run.exitCode, 2, said(run))
      assert.match(run.stderr, message)
      assert.equal(world.storeOpened, false)
      assert.equal(world.store.rows.size, 0)
      assert.deepEqual(world.cluster.calls, [])
      assert.equal(existsSync(path), false)
    })
  }

  it('never writes a secret: only the five values, under any DATABASE_URL or key the demo has', async () => {
    const world = new World()
    mkdirSync(join(world.dir, 'ci'))
    const files = {GITHUB_OUTPUT: join(world.dir, 'ci/out'), GITHUB_STEP_SUMMARY: join(world.dir, 'ci/summary')}
    const run = await runInProcess(Create, ['--type', 'startup', '--output-env', 'ci/env'], world, {env: files})
    assert.equal(run.exitCode, 0, said(run))
    assert.deepEqual(Object.keys(parseGithubOutput(readFileSync(files.GITHUB_OUTPUT, 'utf8'))), [
      'id',
      'namespace',
      'portal-url',
      'candidate-url',
      'expires-at',
    ])
    assert.equal(readFileSync(join(world.dir, 'ci/env'), 'utf8').trim().split('\n').length, 5)
    for (const path of [...Object.values(files), join(world.dir, 'ci/env')]) {
      assert.doesNotMatch(readFileSync(path, 'utf8'), /DATABASE_URL|password|secret|anon|token|eyJ/i, path)
    }
  })
})

describe('the GITHUB_OUTPUT format', () => {
  it('picks another delimiter when a value holds the first one (heredoc-safe)', () => {
    let call = 0
    const random = {bytes: (n: number) => Uint8Array.from({length: n}, () => (call++ < 16 ? 0 : 1))}
    const taken = `x\nghadelimiter_${'00'.repeat(16)}\ny`
    const text = githubOutputLines({id: taken, namespace: 'n', portalUrl: 'p', candidateUrl: 'c', expiresAt: 'e'}, random)
    assert.equal(parseGithubOutput(text).id, taken)
    assert.match(text, new RegExp(`^id<<ghadelimiter_${'01'.repeat(16)}$`, 'm'))
  })
})
