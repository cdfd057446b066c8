// demo health and demo wait end to end: the built CLI against the local control plane, real Postgres, and demo
// URLs served by HTTP(S) servers this test starts (the URL patterns point at them through demo.config.yaml).
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {AppsV1Api, CoreV1Api, type V1Deployment} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase, tempDir} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliSandbox} from '../support/cli.js'
import {eventually, loadTestKubeConfig, NEVER_READY_LABEL, namespaceExists} from '../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const apps = kubeConfig.makeApiClient(AppsV1Api)
const core = kubeConfig.makeApiClient(CoreV1Api)

interface Report {
  result: string
  demos: Array<{id: string; status: string; result: string; change: {kind: string}; checks: Array<{name: string; result: string; detail: string}>}>
}

/** How the test server answers a demo's health path. */
type Mode = 'ok' | 'error' | 'hang' | 'elsewhere'

/** An http server answering /<id>/portal/health and /<id>/candidate/health as `modes` says (default ok). */
async function demoServer(): Promise<{port: number; modes: Map<string, Mode>; close: () => Promise<void>}> {
  const modes = new Map<string, Mode>()
  const server = http.createServer((request, response) => {
    const mode = modes.get(request.url ?? '') ?? 'ok'
    if (mode === 'hang') return
    if (mode === 'elsewhere') return void response.writeHead(302, {location: 'https://login.elsewhere.example/sso'}).end()
    response.writeHead(mode === 'ok' ? 200 : 500).end(mode)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    modes,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** An https server with a self-signed certificate that expired yesterday (made with openssl now). */
async function expiredTlsServer(): Promise<{port: number; close: () => Promise<void>}> {
  const dir = tempDir('demo-e2e-tls-')
  const [key, fresh, expired] = ['key.pem', 'fresh.pem', 'expired.pem'].map((f) => join(dir, f)) as [string, string, string]
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      fresh,
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
    ],
    {stdio: 'ignore'},
  )
  execFileSync('openssl', ['x509', '-in', fresh, '-signkey', key, '-days', '-1', '-out', expired], {stdio: 'ignore'})
  const server = https.createServer({key: readFileSync(key), cert: readFileSync(expired)}, (_request, response) => response.writeHead(200).end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

let database: {url: string; drop: () => Promise<void>}
let server: Awaited<ReturnType<typeof demoServer>>
let tls: Awaited<ReturnType<typeof expiredTlsServer>>

before(async () => {
  database = await scratchDatabase('e2e_health')
  server = await demoServer()
  tls = await expiredTlsServer()
})
after(async () => {
  await server.close()
  await tls.close()
  await database.drop()
})

const SERVICES = onlyServices({
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
  candidate: {image: 'registry.example/candidate:1', port: 8080, host: 'candidate'},
})

function sandbox(candidateUrl?: string): CliSandbox {
  const base = `http://localhost:${server.port}`
  return cliSandbox({
    config: {services: SERVICES, ingress: {portalUrl: `${base}/{id}/portal`, candidateUrl: candidateUrl ?? `${base}/{id}/candidate`}},
    databaseUrl: database.url,
  })
}

async function health(box: CliSandbox, args: string[]): Promise<{code: number | null; report: Report; text: string}> {
  const result = await runDemo(box, ['health', ...args, '--json', '--url-timeout', '1s'])
  return {code: result.code, report: jsonOf<Report>(result), text: transcript(result)}
}

function check(report: Report, name: string): {result: string; detail: string} | undefined {
  return report.demos[0]?.checks.find((c) => c.name === name)
}

/** Replaces the Deployment with one whose new pod the test bed keeps not Ready (Recreate: the old pod goes first), or back. */
async function setNeverReady(namespace: string, name: string, on: boolean): Promise<void> {
  const deployment: V1Deployment = await apps.readNamespacedDeployment({name, namespace})
  const spec = deployment.spec
  assert.ok(spec)
  spec.strategy = {type: 'Recreate'}
  const labels = {...spec.template.metadata?.labels}
  if (on) Object.assign(labels, NEVER_READY_LABEL)
  else for (const key of Object.keys(NEVER_READY_LABEL)) delete labels[key]
  spec.template.metadata = {...spec.template.metadata, labels}
  await apps.replaceNamespacedDeployment({name, namespace, body: deployment})
}

describe('demo health on the local control plane', () => {
  let box: CliSandbox
  let id: string
  let namespace: string
  before(async () => {
    box = sandbox()
    const created = await runDemo(box, ['create', '--json'])
    assert.equal(created.code, 0, transcript(created))
    ;({id, namespace} = jsonOf<{id: string; namespace: string}>(created))
  })
  after(async () => {
    await runDemo(box, ['destroy', id, '--yes'])
  })

  it('finds a fresh demo healthy: namespace, both deployments, both URLs answering 200; exit 0', async () => {
    const {code, report, text} = await health(box, [id])
    assert.equal(code, 0, text)
    assert.equal(report.result, 'healthy')
    assert.deepEqual(
      report.demos[0]?.checks.map((c) => [c.name, c.result]),
      [
        ['namespace', 'healthy'],
        ['deployment candidate', 'healthy'],
        ['deployment portal', 'healthy'],
        ['database', 'skipped'],
        ['url portal', 'healthy'],
        ['url candidate', 'healthy'],
      ],
    )
  })

  it('judges a 500, a timeout and a redirect to another host (not followed)', async () => {
    const portal = `/${id}/portal/health`
    const candidate = `/${id}/candidate/health`
    server.modes.set(portal, 'error')
    server.modes.set(candidate, 'elsewhere')
    const first = await health(box, [id])
    assert.equal(first.code, 5, first.text)
    assert.match(check(first.report, 'url portal')?.detail ?? '', /HTTP 500/)
    assert.equal(check(first.report, 'url candidate')?.result, 'degraded')
    assert.match(
      check(first.report, 'url candidate')?.detail ?? '',
      /redirects to another host \(https:\/\/login\.elsewhere\.example\/sso\); not followed/,
    )
    server.modes.set(portal, 'hang')
    server.modes.set(candidate, 'ok')
    const second = await health(box, [id])
    assert.equal(second.code, 5, second.text)
    assert.match(check(second.report, 'url portal')?.detail ?? '', /no answer: timed out after 1s/)
    server.modes.delete(portal)
    const third = await health(box, [id])
    assert.equal(third.code, 0, third.text)
    assert.equal(third.report.demos[0]?.change.kind, 'recovered')
  })

  it('marks the demo degraded when a deployment never becomes Ready, naming it, and recovered once fixed', async () => {
    await setNeverReady(namespace, 'portal', true)
    const sick = await eventually('the portal deployment to be unhealthy', async () => {
      const run = await health(box, [id, '--no-urls'])
      return check(run.report, 'deployment portal')?.result === 'unhealthy' ? run : undefined
    })
    assert.equal(sick.code, 5, sick.text)
    assert.match(check(sick.report, 'deployment portal')?.detail ?? '', /0\/1 available.*pod portal-[\w-]+ is not ready/)
    const row = jsonOf<{status: string; events: Array<{type: string; data: {problems?: string[]}}>}>(await runDemo(box, ['get', id, '--json']))
    assert.equal(row.status, 'degraded')
    assert.match(JSON.stringify(row.events.at(-1)), /"type":"degraded".*deployment portal/)
    await setNeverReady(namespace, 'portal', false)
    const well = await eventually('the demo to be healthy again', async () => {
      const run = await health(box, [id, '--no-urls'])
      return run.code === 0 ? run : undefined
    })
    assert.equal(well.report.demos[0]?.change.kind, 'recovered')
    const text = await runDemo(box, ['get', id])
    assert.match(text.stdout, /recovered after \S+ degraded, found by alice@example\.com; resolved: deployment portal: unhealthy/)
  })

  it('finds the demo unhealthy once its namespace is deleted by hand; --all with an id is refused', async () => {
    const refused = await runDemo(box, ['health', id, '--all'])
    assert.equal(refused.code, 2, transcript(refused))
    await core.deleteNamespace({name: namespace})
    await eventually('the namespace to be gone', async () => ((await namespaceExists(core, namespace)) ? undefined : true))
    const {code, report, text} = await health(box, ['--all', '--no-urls'])
    assert.equal(code, 5, text)
    assert.match(check(report, 'namespace')?.detail ?? '', /does not exist/)
    const unknown = await runDemo(box, ['health', 'nosuchid'])
    assert.equal(unknown.code, 1, transcript(unknown))
  })
})

describe('demo health of an https URL with an expired certificate', () => {
  it('reports the certificate invalid and the demo unhealthy', async () => {
    const box = sandbox(`https://localhost:${tls.port}/{id}/candidate`)
    const created = await runDemo(box, ['create', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const {id} = jsonOf<{id: string}>(created)
    try {
      const {code, report, text} = await health(box, [id])
      assert.equal(code, 5, text)
      assert.match(check(report, 'url candidate')?.detail ?? '', /HTTP 200 .*TLS certificate invalid: CERT_HAS_EXPIRED|self-signed/i)
      assert.equal(check(report, 'url candidate')?.result, 'unhealthy')
    } finally {
      await runDemo(box, ['destroy', id, '--yes'])
    }
  })
})

describe('demo wait on the local control plane', () => {
  it('finishes a create --no-wait (ready) and a destroy --no-wait (destroyed)', async () => {
    const box = sandbox()
    const created = await runDemo(box, ['create', '--no-wait', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const {id, namespace, status} = jsonOf<{id: string; namespace: string; status: string}>(created)
    assert.equal(status, 'creating')
    const waited = await runDemo(box, ['wait', id, '--timeout', '2m', '--json'])
    assert.equal(waited.code, 0, transcript(waited))
    assert.deepEqual((({status: s, outcome}) => ({s, outcome}))(jsonOf<{status: string; outcome: string}>(waited)), {s: 'ready', outcome: 'ready'})
    const again = await runDemo(box, ['wait', id])
    assert.equal(again.code, 0, transcript(again))
    assert.match(again.stdout, /is already ready; nothing to wait for/)
    const destroying = await runDemo(box, ['destroy', id, '--yes', '--no-wait'])
    assert.equal(destroying.code, 0, transcript(destroying))
    const gone = await runDemo(box, ['wait', id, '--json'])
    assert.equal(gone.code, 0, transcript(gone))
    assert.equal(jsonOf<{status: string}>(gone).status, 'destroyed')
    assert.equal(await namespaceExists(core, namespace), false)
  })
})
