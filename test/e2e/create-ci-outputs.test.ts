// End to end: the built CLI creates a demo on the local control plane with real Postgres, as a GitHub Actions
// step would (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and another CI would (--output-env); then `demo stats` reads
// the same database. Refusals of unwritable targets run in process (test/unit/commands/create-ci.test.ts).
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliSandbox} from '../support/cli.js'
import {parseGithubOutput} from '../support/github-output.js'
import {CoreV1Api} from '@kubernetes/client-node'
import {loadTestKubeConfig, namespaceExists} from '../support/k8s.js'

const core = loadTestKubeConfig().makeApiClient(CoreV1Api)

let database: {url: string; drop: () => Promise<void>}
let box: CliSandbox

before(async () => {
  database = await scratchDatabase('e2e_ci_outputs')
  box = cliSandbox({
    config: {services: onlyServices({'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000}}), limits: {monthlyBudget: 1000}},
    databaseUrl: database.url,
  })
})
after(async () => {
  await database.drop()
})

describe('demo create in CI (built CLI, control plane, Postgres)', () => {
  it('writes the GitHub outputs, the step summary and --output-env, then stats counts the demo', async () => {
    const files = {GITHUB_OUTPUT: join(box.dir, 'github-output'), GITHUB_STEP_SUMMARY: join(box.dir, 'step-summary')}
    const created = await runDemo(box, ['create', '--type', 'startup', '--duration', '1h', '--json', '--output-env', 'demo.env'], files)
    assert.equal(created.code, 0, transcript(created))
    const view = jsonOf<{id: string; namespace: string; portalUrl: string; candidateUrl: string; expiresAt: string; estimatedCost: {hours: number}}>(
      created,
    )
    assert.equal(view.estimatedCost.hours, 1)
    assert.deepEqual(parseGithubOutput(readFileSync(files.GITHUB_OUTPUT, 'utf8')), {
      id: view.id,
      namespace: view.namespace,
      'portal-url': view.portalUrl,
      'candidate-url': view.candidateUrl,
      'expires-at': view.expiresAt,
    })
    assert.match(readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), new RegExp(`^### Demo \`${view.id}\` is ready$`, 'm'))
    assert.equal(
      readFileSync(join(box.dir, 'demo.env'), 'utf8'),
      `DEMO_ID=${view.id}\nDEMO_NAMESPACE=${view.namespace}\nDEMO_PORTAL_URL=${view.portalUrl}\nDEMO_CANDIDATE_URL=${view.candidateUrl}\nDEMO_EXPIRES_AT=${view.expiresAt}\n`,
    )
    const password = new URL(database.url).password
    for (const path of [...Object.values(files), join(box.dir, 'demo.env')]) assert.ok(!readFileSync(path, 'utf8').includes(password), path)

    const stats = await runDemo(box, ['stats', '--period', 'week', '--json'])
    assert.equal(stats.code, 0, transcript(stats))
    const report = jsonOf<{created: number; ready: number; byOwner: Array<{owner: string}>}>(stats)
    assert.equal(report.created, 1)
    assert.equal(report.ready, 1)
    assert.deepEqual(
      report.byOwner.map((o) => o.owner),
      ['alice@example.com'],
    )

    const destroyed = await runDemo(box, ['destroy', view.id, '--yes', '--json'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.equal(await namespaceExists(core, view.namespace), false)
  })

  it('refuses an unwritable --output-env with exit 2 before anything is created', async () => {
    const result = await runDemo(box, ['create', '--type', 'startup', '--output-env', join(box.dir, 'missing/demo.env')])
    assert.equal(result.code, 2, transcript(result))
    assert.match(result.stderr, /Cannot write --output-env file .*missing\/demo\.env: the directory .* does not exist\. Nothing was created\./)
    assert.equal(existsSync(join(box.dir, 'missing')), false)
    const list = await runDemo(box, ['list', '--status', 'all', '--json'])
    assert.equal(jsonOf<{total: number}>(list).total, 1)
  })
})
