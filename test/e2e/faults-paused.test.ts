// Rows T11 and T13 of the fault matrix (docs/fault-matrix.md) end to end: the built CLI (bin/run.js) paused at a
// checkpoint (DEMO_TEST_PAUSE_AT: it SIGSTOPs itself), a real component broken while it waits, then SIGCONT.
// T11: the test bed's kube-apiserver paused (SIGSTOP, not stopped) in the middle of a create.
// T13: a throwaway real PostgreSQL (the state store) stopped between two steps of a create.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase, query} from '../support/databases.js'
import {
  cliSandbox,
  jsonOf,
  runDemo,
  startPausedAt,
  transcript,
  type CliResult,
  type CliSandbox,
  type PausedCli,
  processState,
} from '../support/cli.js'
import {eventually, loadTestKubeConfig, namespaceExists} from '../support/k8s.js'
import {throwawayPostgres, type ThrowawayPostgres} from '../support/throwaway-postgres.js'

const core = loadTestKubeConfig().makeApiClient(CoreV1Api)

const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

/**
 * The documented bound (README "Exit codes"): each Kubernetes request has a 30 s deadline and is retried for at
 * most 90 s (a retry starts no later), so a step gives up within 120 s, and the rollback's delete the same. The CLI
 * is killed at this bound plus a margin for the start and the store's writes; a kill fails the test.
 */
const T11_KILL_AFTER_MS = 2 * 120_000 + 60_000

/** The newest row. */
async function latestRow(url: string): Promise<{id: string; status: string; last_error: string | null}> {
  const [row] = await query<{id: string; status: string; last_error: string | null}>(
    url,
    'SELECT id, status, last_error FROM demo_orchestrator.demo_instances ORDER BY created_at DESC LIMIT 1',
  )
  assert.ok(row, 'no row')
  return row
}

async function onlyRow(url: string): Promise<{id: string; status: string; last_error: string | null}> {
  const rows = await query<{id: string; status: string; last_error: string | null}>(
    url,
    'SELECT id, status, last_error FROM demo_orchestrator.demo_instances',
  )
  assert.equal(rows.length, 1, JSON.stringify(rows))
  return rows[0] as {id: string; status: string; last_error: string | null}
}

/** `create` started with DEMO_TEST_PAUSE_AT=<checkpoint>; resolves when it is stopped there. */
function createPausedAt(box: CliSandbox, checkpoint: string, killAfterMs: number): Promise<PausedCli> {
  return startPausedAt(
    {args: ['create', '--type', 'startup', '--wait-timeout', '10m'], cwd: box.dir, env: box.env, timeoutMs: killAfterMs},
    checkpoint,
  )
}

describe('T11: the API server paused (SIGSTOP) in the middle of a create', () => {
  let database: {url: string; drop: () => Promise<void>}
  before(async () => {
    database = await scratchDatabase('e2e_faults_t11')
  })
  after(async () => {
    await database.drop()
  })

  // Paused after the database step (the next request, an apply, gets no answer), and after the ingress step (the
  // fault hits the wait for Available, whose watch and full reads are bounded the same way).
  for (const checkpoint of ['database', 'ingress']) {
    it(
      `paused after "${checkpoint}": gives up within the documented bound with a clear error, an honest row, and destroy finishes after SIGCONT`,
      {timeout: 600_000},
      async (t) => {
        const stateDir = dirname(process.env.DEMO_TEST_KUBECONFIG ?? '')
        const apiServer = Number(readFileSync(join(stateDir, 'run/kube-apiserver.pid'), 'utf8').trim().split(/\s+/)[0])
        assert.ok(apiServer > 0 && processState(apiServer) !== undefined, `no kube-apiserver process at ${stateDir}/run`)
        const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: database.url})
        const create = await createPausedAt(box, checkpoint, T11_KILL_AFTER_MS)
        let result: CliResult
        const pausedAt = Date.now()
        try {
          process.kill(apiServer, 'SIGSTOP')
          create.resume()
          result = await create.result
        } finally {
          process.kill(apiServer, 'SIGCONT')
        }
        t.diagnostic(`gave up ${Math.round((Date.now() - pausedAt) / 1000)} s after the pause; stderr:\n${result.stderr}`)
        assert.equal(result.signal, null, `killed at the bound: the create did not give up by itself\n${transcript(result)}`)
        assert.equal(result.code, 1, transcript(result))
        // Leads with the API server that does not answer (a connect that never finishes its TLS handshake, or a
        // request past its 30 s deadline), names it, and says how to finish.
        const server =
          /^Error: Create of demo \w+ failed: [^\n]*the API server at https:\/\/127\.0\.0\.1:\d+ (did not (accept the connection|answer|finish its answer) in time \(UND_ERR_\w*TIMEOUT\)|did not answer within 30 s)/m
        assert.match(result.stderr, server, transcript(result))
        assert.match(result.stderr, /^Hint: Check that the cluster is running and reachable/m, transcript(result))
        assert.match(result.stderr, /^✖ Roll back: delete namespace demo-\w+ \[FAILED/m, 'the progress does not show the failed delete as done')
        const stored = await latestRow(database.url)
        assert.ok(['failed', 'creating'].includes(stored.status), `row ${stored.status}, never ready`)
        assert.match(result.stderr, new RegExp(`demo destroy ${stored.id}`), transcript(result))
        // The server answers again: destroy finishes what the rollback could not.
        await eventually('the API server answers', async () => ((await core.readNamespace({name: 'kube-system'})) ? true : undefined), {
          timeoutMs: 60_000,
        })
        const destroyed = await runDemo(box, ['destroy', stored.id, '--yes', '--json'])
        assert.equal(destroyed.code, 0, transcript(destroyed))
        assert.equal(await namespaceExists(core, `demo-${stored.id}`), false)
        assert.equal((await latestRow(database.url)).status, 'destroyed')
      },
    )
  }
})

describe('T13: the state database (real PostgreSQL) stopped between two steps of a create', () => {
  let postgres: ThrowawayPostgres
  before(async () => {
    postgres = await throwawayPostgres()
  })
  after(async () => {
    await postgres.remove()
  })

  it(
    'rolls back the namespace, says first that the state store became unreachable, exit 1; after a restart the row is honest and destroy cleans it',
    {timeout: 600_000},
    async (t) => {
      const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: postgres.url})
      const create = await createPausedAt(box, 'secrets', 300_000)
      const id = (await onlyRow(postgres.url)).id
      assert.equal(await namespaceExists(core, `demo-${id}`), true, 'the namespace exists before the fault')
      await postgres.stopImmediately()
      create.resume()
      const result = await create.result
      t.diagnostic(`stderr:\n${result.stderr}`)
      assert.equal(result.code, 1, transcript(result))
      assert.match(
        result.stderr,
        new RegExp(`^Error: Create of demo ${id} failed: The state store at 127\\.0\\.0\\.1:${postgres.port} is unreachable`, 'm'),
        transcript(result),
      )
      assert.equal(await namespaceExists(core, `demo-${id}`), false, 'the namespace was rolled back')
      assert.match(result.stderr, new RegExp(`^✔ Roll back: delete namespace demo-${id}`, 'm'), transcript(result))
      assert.match(result.stderr, /^✖ Roll back: record the demo as failed \[FAILED/m, 'the progress does not show the unrecorded failure as done')
      await postgres.start()
      const stored = await onlyRow(postgres.url)
      assert.ok(['failed', 'creating'].includes(stored.status), `row ${stored.status}, never ready`)
      const destroyed = await runDemo(box, ['destroy', id, '--yes', '--json'])
      assert.equal(destroyed.code, 0, transcript(destroyed))
      assert.ok(['destroyed', 'already-destroyed'].includes(jsonOf<{outcome: string}>(destroyed).outcome), transcript(destroyed))
      assert.equal((await onlyRow(postgres.url)).status, 'destroyed')
    },
  )
})
