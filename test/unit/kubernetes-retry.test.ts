import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'
import {beforeEach, test} from 'node:test'
import {connectClients, connectKubernetesCluster, type KubernetesClusterOptions} from '../../src/adapters/kubernetes/kubernetes-cluster.js'
import {applyRetryDecisionFor, toClusterError} from '../../src/adapters/kubernetes/api-errors.js'
import {AdaptiveLimit, backoffDelayMs, parseRetryAfterMs, withRetry} from '../../src/adapters/kubernetes/retry.js'
import {ClusterError, ClusterUnavailableError, UsageError} from '../../src/core/errors.js'
import {failureOf} from '../support/failures.js'
import {refusedPort, serveDuringTests} from '../support/scripted-server.js'
import {tempDir} from '../support/databases.js'

// A scripted stand-in for the API server on 127.0.0.1: each request takes the next reply (the last one repeats).
interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
  hang?: boolean
}

const TOKEN = 'canary-token-3f9a1c'
let script: Reply[] = []
let requests: {method: string; url: string; at: number}[] = []

function handle(request: IncomingMessage, response: ServerResponse): void {
  requests.push({method: request.method ?? '', url: request.url ?? '', at: performance.now()})
  const reply = script.length > 1 ? script.shift()! : script[0]!
  if (reply.hang) return
  response.writeHead(reply.status, {'content-type': 'application/json', ...reply.headers})
  response.end(JSON.stringify(reply.body ?? {}))
}

function aNamespace(name: string): Reply {
  return {status: 200, body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name, uid: 'u1'}, status: {phase: 'Active'}}}
}

function aStatus(code: number, message: string, reason = 'Failure'): Reply {
  return {status: code, body: {apiVersion: 'v1', kind: 'Status', status: 'Failure', message, reason, code}}
}

function kubeconfigFor(serverUrl: string, contexts = ['test']): string {
  const dir = tempDir('demo-kubeconfig-')
  const file = join(dir, 'config')
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'fake', cluster: {server: serverUrl, 'insecure-skip-tls-verify': true}}],
      users: [{name: 'me', user: {token: TOKEN}}],
      contexts: contexts.map((name) => ({name, context: {cluster: 'fake', user: 'me'}})),
      'current-context': contexts[0],
    }),
  )
  return file
}

function connect(options: KubernetesClusterOptions = {}) {
  return connectKubernetesCluster({
    kubeconfig: kubeconfigFor(`http://127.0.0.1:${scripted.port}`),
    retry: {baseDelayMs: 5, maxDelayMs: 20, attempts: 4},
    ...options,
  })
}

const scripted = serveDuringTests(handle)
beforeEach(() => {
  script = []
  requests = []
})

test('a 429 with Retry-After is retried after the time the server asked for', async () => {
  script = [{...aStatus(429, 'too many requests', 'TooManyRequests'), headers: {'retry-after': '1'}}, aNamespace('demo-a')]
  const cluster = await connect()

  const status = await cluster.namespaceStatus('demo-a')

  assert.deepEqual(status, {exists: true, terminating: false, blockers: []})
  assert.equal(requests.length, 2)
  assert.ok(requests[1]!.at - requests[0]!.at >= 950, `waited ${requests[1]!.at - requests[0]!.at} ms`)
})

test('503s are retried with backoff until the server answers', async () => {
  script = [aStatus(503, 'unavailable'), aStatus(503, 'unavailable'), aNamespace('demo-a')]
  const cluster = await connect()

  const status = await cluster.namespaceStatus('demo-a')

  assert.equal(status.exists, true)
  assert.equal(requests.length, 3)
})

test('a server that keeps failing ends in ClusterUnavailableError after the configured attempts, without the token or raw headers', async () => {
  script = [aStatus(503, 'etcd is down')]
  const cluster = await connect()

  const error = await failureOf(cluster.namespaceStatus('demo-a'))

  assert.ok(error instanceof ClusterUnavailableError)
  assert.equal(requests.length, 4)
  assert.match(error.message, /Cannot read namespace "demo-a".*etcd is down \(HTTP 503\)/)
  assert.doesNotMatch(`${error.message} ${error.hint ?? ''}`, new RegExp(`${TOKEN}|Headers|content-type`))
})

test('the transient 403 "status unknown for quota" is retried; any other 403 is not', async () => {
  script = [aStatus(403, 'pods "x" is forbidden: status unknown for quota: demo-quota, resource: pods', 'Forbidden'), aNamespace('demo-a')]
  const cluster = await connect()
  await cluster.namespaceStatus('demo-a')
  assert.equal(requests.length, 2)

  script = [aStatus(403, 'namespaces "demo-a" is forbidden: User "me" cannot get resource "namespaces"', 'Forbidden')]
  requests = []
  const error = await failureOf(cluster.namespaceStatus('demo-a'))

  assert.equal(requests.length, 1)
  assert.ok(error instanceof ClusterError)
  assert.match(error.message, /forbidden: namespaces "demo-a" is forbidden: User "me" cannot get resource "namespaces" \(HTTP 403\)/)
})

test('a 404 on read means the namespace does not exist', async () => {
  script = [aStatus(404, 'namespaces "demo-a" not found', 'NotFound')]
  const cluster = await connect()

  assert.deepEqual(await cluster.namespaceStatus('demo-a'), {exists: false, terminating: false, blockers: []})
  assert.equal(requests.length, 1)
})

test('a request the server never answers times out, is retried, and ends in ClusterUnavailableError', async () => {
  script = [{status: 200, hang: true}]
  const cluster = await connect({requestTimeoutMs: 200, retry: {attempts: 2, baseDelayMs: 5, maxDelayMs: 10}})

  const error = await failureOf(cluster.namespaceStatus('demo-a'))

  assert.ok(error instanceof ClusterUnavailableError)
  assert.match(error.message, new RegExp(`API server at http://127.0.0.1:${scripted.port} did not answer within 200 ms`))
  assert.equal(requests.length, 2)
})

test('a refused connection is ClusterUnavailableError naming the server, with a hint', async () => {
  const closedPort = await refusedPort()
  const cluster = await connectKubernetesCluster({
    kubeconfig: kubeconfigFor(`http://127.0.0.1:${closedPort}`),
    retry: {attempts: 2, baseDelayMs: 1, maxDelayMs: 2},
  })

  const error = await failureOf(cluster.namespaceStatus('demo-a'))

  assert.ok(error instanceof ClusterUnavailableError)
  assert.match(error.message, new RegExp(`cannot reach the API server at http://127.0.0.1:${closedPort} \\(ECONNREFUSED\\)`))
  assert.match(error.hint ?? '', /kubectl cluster-info/)
})

test('a server that takes a connection but does not complete it is "did not accept the connection in time", not "cannot reach"', () => {
  const context = {what: 'Cannot read namespace "demo-a"', server: 'https://10.0.0.1:6443', timeoutMs: 30_000}
  const connect = Object.assign(new Error('Connect Timeout Error'), {code: 'UND_ERR_CONNECT_TIMEOUT'})
  const error = toClusterError(new TypeError('fetch failed', {cause: connect}), context)
  assert.ok(error instanceof ClusterUnavailableError)
  assert.equal(
    error.message,
    'Cannot read namespace "demo-a": the API server at https://10.0.0.1:6443 did not accept the connection in time (UND_ERR_CONNECT_TIMEOUT).',
  )
  const headers = toClusterError(Object.assign(new Error('Headers Timeout Error'), {code: 'UND_ERR_HEADERS_TIMEOUT'}), context)
  assert.match(headers.message, /did not answer in time \(UND_ERR_HEADERS_TIMEOUT\)\.$/)
})

test('an unknown context is a UsageError listing the known ones', async () => {
  const error = await failureOf(
    connectKubernetesCluster({kubeconfig: kubeconfigFor('http://127.0.0.1:1', ['kind-demo', 'prod']), context: 'staging'}),
  )

  assert.ok(error instanceof UsageError)
  assert.match(error.message, /no context "staging"/)
  assert.match(error.hint ?? '', /kind-demo, prod/)
})

test('a missing kubeconfig file is a UsageError naming it (the loader never falls back to http://localhost:8080: test/unit/kubeconfig.test.ts)', async () => {
  const missing = await failureOf(connectKubernetesCluster({kubeconfig: '/nonexistent/kubeconfig'}))

  assert.ok(missing instanceof UsageError)
  assert.equal(missing.message, 'Cannot read the kubeconfig /nonexistent/kubeconfig (from --kubeconfig): no such file.')
})

test("the context name is the kubeconfig's current context, or the one asked for", async () => {
  const file = kubeconfigFor('http://127.0.0.1:1', ['first', 'second'])

  assert.equal((await connectKubernetesCluster({kubeconfig: file})).contextName(), 'first')
  assert.equal((await connectKubernetesCluster({kubeconfig: file, context: 'second'})).contextName(), 'second')
})

test('full-jitter backoff stays below the doubling ceiling and the maximum', () => {
  const options = {baseDelayMs: 100, maxDelayMs: 1000}

  assert.equal(
    backoffDelayMs(0, options, () => 0.999),
    99,
  )
  assert.equal(
    backoffDelayMs(3, options, () => 0.5),
    400,
  )
  assert.equal(
    backoffDelayMs(10, options, () => 0.999),
    999,
  )
  assert.equal(
    backoffDelayMs(2, options, () => 0),
    0,
  )
})

test('Retry-After is read as seconds or an HTTP date; anything else is ignored', () => {
  const now = Date.parse('2026-11-25T12:00:00Z')

  assert.equal(parseRetryAfterMs('3', now), 3000)
  assert.equal(parseRetryAfterMs('Wed, 25 Nov 2026 12:00:05 GMT', now), 5000)
  assert.equal(parseRetryAfterMs('soon', now), undefined)
  assert.equal(parseRetryAfterMs(undefined, now), undefined)
})

test('withRetry gives up when the next wait would exceed the time budget, and never retries what it should not', async () => {
  let calls = 0
  const {hooks} = fakeTime()
  const options = {attempts: 10, attemptsWhenAskedToWait: 10, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 30_000, budgetMs: 5000}
  const failing = () => {
    calls += 1
    return Promise.reject(new Error('boom'))
  }

  await assert.rejects(
    withRetry(failing, () => ({retry: true}), options, hooks),
    /boom/,
  )
  assert.equal(calls, 4) // waits 500, 1000 and 2000 ms; the next wait (4000 ms) would end past the 5 s budget
  calls = 0
  await assert.rejects(
    withRetry(failing, () => ({retry: false}), options, hooks),
    /boom/,
  )
  assert.equal(calls, 1)
})

function anApiError(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP ${code}`), {code, body: JSON.stringify({kind: 'Status', message, code})})
}

test('an apply refused by "exceeded quota" is retried only after an earlier attempt of it failed (that attempt may land and hold the charge)', () => {
  const refused = anApiError(
    403,
    'services "api" is forbidden: exceeded quota: demo-quota, requested: services=1, used: services=10, limited: services=10',
  )
  assert.deepEqual(applyRetryDecisionFor(refused, false), {retry: false})
  assert.deepEqual(applyRetryDecisionFor(refused, true), {retry: true})
  const forbidden = anApiError(403, 'services "api" is forbidden: User "me" cannot patch resource "services"')
  assert.deepEqual(applyRetryDecisionFor(forbidden, true), {retry: false})
  assert.equal(applyRetryDecisionFor(anApiError(503, 'unavailable'), false).retry, true)
  assert.equal(applyRetryDecisionFor(anApiError(422, 'invalid'), true).retry, false)
})

test('a quota refusal after a timed-out apply is retried until the earlier attempt has stored the object', async () => {
  const attempts: string[] = []
  const outcomes = [anApiError(504, 'timeout'), anApiError(403, 'exceeded quota: demo-quota, used: services=10'), 'applied']
  let failedBefore = false
  const result = await withRetry(
    async () => {
      const next = outcomes.shift()
      attempts.push(next instanceof Error ? next.message : String(next))
      if (next instanceof Error) throw next
      return next
    },
    (error) => {
      const decision = applyRetryDecisionFor(error, failedBefore)
      failedBefore = true
      return decision
    },
    {attempts: 5, attemptsWhenAskedToWait: 5, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10, budgetMs: 1000},
  )
  assert.equal(result, 'applied')
  assert.equal(attempts.length, 3)
})

/** A clock that only moves when withRetry sleeps, and the waits it asked for. */
function fakeTime(): {hooks: {now: () => number; sleep: (ms: number) => Promise<void>; random: () => number}; slept: number[]} {
  let clock = 0
  const slept: number[] = []
  const sleep = (ms: number): Promise<void> => {
    clock += ms
    slept.push(ms)
    return Promise.resolve()
  }
  return {hooks: {now: () => clock, sleep, random: () => 0.5}, slept}
}

test('a Retry-After wait gets the jittered backoff on top, so a rejected burst does not come back at one instant', async () => {
  const {hooks, slept} = fakeTime()
  const options = {attempts: 6, attemptsWhenAskedToWait: 6, baseDelayMs: 250, maxDelayMs: 8000, maxRetryAfterMs: 30_000, budgetMs: 90_000}
  let calls = 0
  const result = await withRetry(
    () => (++calls < 4 ? Promise.reject(new Error('429')) : Promise.resolve('done')),
    () => ({retry: true, afterMs: 1000}),
    options,
    hooks,
  )
  assert.equal(result, 'done')
  // 1 s asked for, plus half (random 0.5) of a ceiling that doubles: 250, 500, 1000 ms.
  assert.deepEqual(slept, [1125, 1250, 1500])
})

test('a server that asks to wait (Retry-After) gets attemptsWhenAskedToWait attempts; one that does not, attempts', async () => {
  const options = {attempts: 3, attemptsWhenAskedToWait: 7, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10, budgetMs: 90_000}
  for (const [afterMs, expected] of [
    [5, 7],
    [undefined, 3],
  ] as const) {
    let calls = 0
    await assert.rejects(
      withRetry(
        () => {
          calls += 1
          return Promise.reject(new Error('busy'))
        },
        () => ({retry: true, afterMs}),
        options,
        fakeTime().hooks,
      ),
      /busy/,
    )
    assert.equal(calls, expected, `afterMs ${afterMs}`)
  }
})

/** Calls that resolve when told, counted as in flight until then. */
function heldCalls(): {start: () => Promise<string>; inFlight: () => number; peak: () => number; finishAll: () => Promise<void>} {
  let inFlight = 0
  let peak = 0
  const pending: (() => void)[] = []
  const start = () =>
    new Promise<string>((resolve) => {
      inFlight += 1
      peak = Math.max(peak, inFlight)
      pending.push(() => {
        inFlight -= 1
        resolve('ok')
      })
    })
  const finishAll = async (): Promise<void> => {
    while (pending.length > 0) {
      for (const finish of pending.splice(0)) finish()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return {start, inFlight: () => inFlight, peak: () => peak, finishAll}
}

test('AdaptiveLimit keeps at most its limit in flight and starts the waiting calls in order', async () => {
  const limit = new AdaptiveLimit(3)
  const calls = heldCalls()
  const order: number[] = []
  const runs = Array.from({length: 7}, (_, i) =>
    limit.run(
      async () => {
        order.push(i)
        return calls.start()
      },
      () => false,
    ),
  )
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(calls.inFlight(), 3)
  await calls.finishAll()
  assert.deepEqual(await Promise.all(runs), Array(7).fill('ok'))
  assert.equal(calls.peak(), 3)
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6])
})

test('AdaptiveLimit halves its limit on each overload, down to one, and regains one per limit-many successes, up to its maximum', async () => {
  const limit = new AdaptiveLimit(8)
  const overloaded = (error: unknown) => (error as Error).message === '429'
  const fail = (message: string) => limit.run(() => Promise.reject(new Error(message)), overloaded).catch(() => undefined)
  const succeed = () => limit.run(() => Promise.resolve('ok'), overloaded)

  await fail('500')
  assert.equal(limit.current, 8, 'a failure that is not an overload keeps the limit')
  const halvings: number[] = []
  for (let i = 0; i < 5; i++) {
    await fail('429')
    halvings.push(limit.current)
  }
  assert.deepEqual(halvings, [4, 2, 1, 1, 1])
  const growth: number[] = []
  for (let i = 0; i < 10; i++) {
    await succeed()
    growth.push(limit.current)
  }
  // One success at limit 1 makes 2; two more make 3; three more make 4; four more would make 5.
  assert.deepEqual(growth, [2, 2, 3, 3, 3, 4, 4, 4, 4, 5])
  for (let i = 0; i < 100; i++) await succeed()
  assert.equal(limit.current, 8, 'never above its maximum')
})

test('after 429s the requests of a process go to the API server one at a time, then a few more at a time', async () => {
  const {clients} = await connectClients({kubeconfig: kubeconfigFor(`http://127.0.0.1:${scripted.port}`), maxInFlight: 8})
  const read = () => clients.send({method: 'GET', path: '/api/v1/namespaces/demo-a'})
  let inFlight = 0
  let peak = 0
  // The scripted server, holding each request 20 ms and counting how many it holds at once.
  const holding = (request: IncomingMessage, response: ServerResponse): void => {
    inFlight += 1
    peak = Math.max(peak, inFlight)
    setTimeout(() => {
      inFlight -= 1
      handle(request, response)
    }, 20)
  }
  scripted.server.removeAllListeners('request')
  scripted.server.on('request', holding)
  try {
    script = [aNamespace('demo-a')]
    await Promise.all(Array.from({length: 12}, read))
    assert.equal(peak, 8, 'maxInFlight at once while the server accepts them')

    script = [aStatus(429, 'too many requests', 'TooManyRequests'), aStatus(429, 'x'), aStatus(429, 'x'), aNamespace('demo-a')]
    for (let i = 0; i < 3; i++) await assert.rejects(read(), /HTTP 429/)
    peak = 0
    await Promise.all(Array.from({length: 6}, read))
    // Three 429s halve 8 to 1. Six reads then go 1, then 2 (after one success), then 3 at a time (after two more).
    assert.equal(peak, 3)
  } finally {
    scripted.server.removeAllListeners('request')
    scripted.server.on('request', handle)
  }
})
