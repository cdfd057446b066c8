// Fault matrix T15 on a scripted API server: credentials that the server stops accepting in the middle of a command
// are loaded again once (the kubeconfig read again, its exec plugin run again) and the refused request sent once
// more; refused again, the command stops with ClusterAuthError telling the user to log in again.
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeEach, describe, test} from 'node:test'
import {connectKubernetesCluster} from '../../src/adapters/kubernetes/kubernetes-cluster.js'
import {ClusterAuthError} from '../../src/core/errors.js'
import {INSTANCE_ANNOTATION, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../../src/core/labels.js'
import {failureOf} from '../support/failures.js'
import {serveDuringTests} from '../support/scripted-server.js'

const OLD = 'old-token-canary-7d2e'
const NEW = 'new-token-canary-91ab'

interface Seen {
  method: string
  url: string
  token: string
  body: string
}

/** Tokens the server accepts now; any other is answered 401, as kube-apiserver does a revoked one. */
let accepted = new Set<string>()
let seen: Seen[] = []

function handle(request: IncomingMessage, response: ServerResponse): void {
  let body = ''
  request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
  request.on('end', () => {
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '')
    seen.push({method: request.method ?? '', url: request.url ?? '', token, body})
    response.setHeader('content-type', 'application/json')
    if (!accepted.has(token)) {
      response.writeHead(401)
      response.end(JSON.stringify({apiVersion: 'v1', kind: 'Status', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401}))
      return
    }
    const name = (request.url ?? '').split('?')[0]?.split('/').pop() ?? ''
    response.writeHead(request.method === 'POST' ? 201 : 200)
    response.end(JSON.stringify({apiVersion: 'v1', kind: 'Namespace', metadata: {name, uid: 'u1'}, status: {phase: 'Active'}}))
  })
}

const scripted = serveDuringTests(handle)
beforeEach(() => {
  seen = []
})

function writeKubeconfig(file: string, user: Record<string, unknown>): void {
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'fake', cluster: {server: `http://127.0.0.1:${scripted.port}`, 'insecure-skip-tls-verify': true}}],
      users: [{name: 'me', user}],
      contexts: [{name: 'test', context: {cluster: 'fake', user: 'me'}}],
      'current-context': 'test',
    }),
  )
}

/** A directory with a kubeconfig whose static token is `token`. */
function tokenKubeconfig(token: string): {dir: string; file: string} {
  const dir = mkdtempSync(join(tmpdir(), 'demo-credentials-'))
  const file = join(dir, 'config')
  writeKubeconfig(file, {token})
  return {dir, file}
}

/**
 * A kubeconfig whose exec plugin (client.authentication.k8s.io/v1 ExecCredential, no expirationTimestamp, so the
 * client caches it for good) prints the token in `token-file`, and counts its runs in `runs`.
 */
function execKubeconfig(token: string): {dir: string; file: string; setToken: (t: string) => void; runs: () => number} {
  const dir = mkdtempSync(join(tmpdir(), 'demo-credentials-exec-'))
  const tokenFile = join(dir, 'token')
  const runsFile = join(dir, 'runs')
  const plugin = join(dir, 'plugin.sh')
  writeFileSync(tokenFile, token)
  writeFileSync(runsFile, '')
  writeFileSync(
    plugin,
    `#!/bin/sh\necho run >> '${runsFile}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat '${tokenFile}')"\n`,
  )
  chmodSync(plugin, 0o755)
  const file = join(dir, 'config')
  writeKubeconfig(file, {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never'}})
  return {
    dir,
    file,
    setToken: (t) => writeFileSync(tokenFile, t),
    runs: () => readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).length,
  }
}

const fast = {retry: {attempts: 4, baseDelayMs: 1, maxDelayMs: 2}}

describe('T15: credentials refused (HTTP 401) in the middle of a command', () => {
  test('a read refused once is sent again with the kubeconfig read again (a refreshed token), and succeeds', async () => {
    const {dir, file} = tokenKubeconfig(OLD)
    accepted = new Set([OLD])
    const cluster = await connectKubernetesCluster({kubeconfig: file, ...fast})
    assert.equal((await cluster.namespaceStatus('demo-a')).exists, true)
    // The provider's login rewrote the kubeconfig, and the old token was revoked.
    writeKubeconfig(file, {token: NEW})
    accepted = new Set([NEW])
    seen = []

    const status = await cluster.namespaceStatus('demo-a')

    assert.equal(status.exists, true)
    assert.deepEqual(
      seen.map((s) => s.token),
      [OLD, NEW],
    )
    rmSync(dir, {recursive: true, force: true})
  })

  test('a write refused once is sent again with its body, with the new credentials', async () => {
    const {dir, file} = tokenKubeconfig(OLD)
    accepted = new Set([NEW])
    writeKubeconfig(file, {token: OLD})
    const cluster = await connectKubernetesCluster({kubeconfig: file, ...fast})
    writeKubeconfig(file, {token: NEW})

    await cluster.ensureNamespace(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {name: 'demo-a', labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: 'a'}, annotations: {[INSTANCE_ANNOTATION]: 'a'}},
      },
      {demoId: 'a', namespace: 'demo-a'},
    )

    const posts = seen.filter((s) => s.method === 'POST')
    assert.deepEqual(
      posts.map((s) => s.token),
      [OLD, NEW],
    )
    assert.equal(posts[1]?.body, posts[0]?.body)
    assert.match(posts[1]?.body ?? '', /"name":"demo-a"/)
    rmSync(dir, {recursive: true, force: true})
  })

  test('an exec plugin is run again after a 401 (its cached token was revoked), and the request succeeds with the new token', async () => {
    const plugin = execKubeconfig(OLD)
    accepted = new Set([OLD])
    const cluster = await connectKubernetesCluster({kubeconfig: plugin.file, ...fast})
    assert.equal((await cluster.namespaceStatus('demo-a')).exists, true)
    assert.equal(plugin.runs(), 1)
    plugin.setToken(NEW)
    accepted = new Set([NEW])
    seen = []

    assert.equal((await cluster.namespaceStatus('demo-a')).exists, true)
    assert.equal((await cluster.namespaceStatus('demo-b')).exists, true)

    assert.deepEqual(
      seen.map((s) => s.token),
      [OLD, NEW, NEW],
    )
    assert.equal(plugin.runs(), 2, 'the plugin runs once more, and its new token is cached again')
    rmSync(plugin.dir, {recursive: true, force: true})
  })

  test('requests refused at the same time each get one resend with the new credentials, and all succeed', async () => {
    const plugin = execKubeconfig(OLD)
    accepted = new Set([OLD])
    const cluster = await connectKubernetesCluster({kubeconfig: plugin.file, ...fast})
    await cluster.namespaceStatus('demo-a')
    plugin.setToken(NEW)
    accepted = new Set([NEW])
    seen = []

    const statuses = await Promise.all(['a', 'b', 'c', 'd'].map((id) => cluster.namespaceStatus(`demo-${id}`)))

    assert.ok(statuses.every((s) => s.exists))
    assert.equal(seen.filter((s) => s.token === OLD).length, 4)
    assert.equal(seen.filter((s) => s.token === NEW).length, 4)
    rmSync(plugin.dir, {recursive: true, force: true})
  })

  test('refused again after the reload: ClusterAuthError (E_CLUSTER_AUTH) saying to log in again, after exactly two requests, no token in it', async () => {
    const {dir, file} = tokenKubeconfig(OLD)
    accepted = new Set()
    const cluster = await connectKubernetesCluster({kubeconfig: file, ...fast})

    const error = await failureOf(cluster.namespaceStatus('demo-a'))

    assert.ok(error instanceof ClusterAuthError)
    assert.equal(error.code, 'E_CLUSTER_AUTH')
    assert.equal(error.exitCode, 1)
    assert.equal(
      error.message,
      'Cannot read namespace "demo-a": the API server refused the credentials (HTTP 401), also after loading them again: they have expired or were revoked.',
    )
    assert.match(error.hint ?? '', /^Log in to the cluster again .*refreshes the kubeconfig/)
    assert.equal(seen.length, 2, 'one request and one resend; a 401 is never retried with backoff')
    assert.doesNotMatch(`${error.message} ${error.hint ?? ''}`, new RegExp(`${OLD}|${NEW}`))
    rmSync(dir, {recursive: true, force: true})
  })

  test('a kubeconfig that is gone when it is loaded again, or an exec plugin that fails: ClusterAuthError naming why', async () => {
    const {dir, file} = tokenKubeconfig(OLD)
    accepted = new Set([OLD])
    const cluster = await connectKubernetesCluster({kubeconfig: file, ...fast})
    await cluster.namespaceStatus('demo-a')
    accepted = new Set()
    rmSync(dir, {recursive: true, force: true})

    const gone = await failureOf(cluster.namespaceStatus('demo-a'))

    assert.ok(gone instanceof ClusterAuthError)
    assert.equal(
      gone.message,
      `Cannot read namespace "demo-a": the API server refused the credentials (HTTP 401), and loading the kubeconfig again failed: Cannot read the kubeconfig ${file} (from --kubeconfig): no such file.`,
    )

    const plugin = execKubeconfig(OLD)
    accepted = new Set([OLD])
    const viaPlugin = await connectKubernetesCluster({kubeconfig: plugin.file, ...fast})
    await viaPlugin.namespaceStatus('demo-a')
    accepted = new Set()
    writeFileSync(join(plugin.dir, 'plugin.sh'), '#!/bin/sh\necho "error: the session expired, run: provider login" >&2\nexit 1\n')

    const failed = await failureOf(viaPlugin.namespaceStatus('demo-a'))

    assert.ok(failed instanceof ClusterAuthError)
    assert.match(
      failed.message,
      /refused the credentials \(HTTP 401\), and getting new ones failed: error: the session expired, run: provider login\.$/,
    )
    assert.match(failed.hint ?? '', /^Log in to the cluster again/)
    rmSync(plugin.dir, {recursive: true, force: true})
  })
})

describe('connections to the API server', () => {
  test('requests share keep-alive connections (the client library made one per request), also across a reload of the credentials', async () => {
    const {dir, file} = tokenKubeconfig(OLD)
    accepted = new Set([OLD])
    let connections = 0
    const count = (): void => void (connections += 1)
    scripted.server.on('connection', count)
    try {
      const cluster = await connectKubernetesCluster({kubeconfig: file, ...fast})
      for (const id of 'abcdefgh') assert.equal((await cluster.namespaceStatus(`demo-${id}`)).exists, true)
      assert.equal(connections, 1, 'eight requests one after the other, one connection')

      writeKubeconfig(file, {token: NEW})
      accepted = new Set([NEW])
      seen = []
      for (const id of 'ijkl') assert.equal((await cluster.namespaceStatus(`demo-${id}`)).exists, true)
      assert.deepEqual(
        seen.map((s) => s.token),
        [OLD, NEW, NEW, NEW, NEW],
      )
      // An http server has no TLS material to change; an https one gets a pool per loaded kubeconfig (transport.ts).
      assert.equal(connections, 1, 'the 401, its resend and what follows, over the same connection')
    } finally {
      scripted.server.off('connection', count)
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
