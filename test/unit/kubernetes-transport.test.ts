// The adapter's HTTP transport (src/adapters/kubernetes/transport.ts) against a scripted API server: bodies and
// headers as sent, answers as parsed, statuses as KubernetesApiError, the per-request deadline, and watches whose
// events arrive split across chunks, end, fail or go quiet.
import assert from 'node:assert/strict'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {beforeEach, describe, test} from 'node:test'
import {KubeConfig} from '@kubernetes/client-node'
import {networkFailureOf} from '../../src/adapters/kubernetes/api-errors.js'
import {ReloadableCredentials} from '../../src/adapters/kubernetes/credentials.js'
import {KubernetesApiError} from '../../src/adapters/kubernetes/rest.js'
import {KubernetesTransport} from '../../src/adapters/kubernetes/transport.js'
import {rejectionOf} from '../support/failures.js'
import {refusedPort, serveDuringTests} from '../support/scripted-server.js'

const TOKEN = 'transport-token-canary-3c1f'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

let seen: Seen[] = []
/** How the server answers the next request; default: 200 with the request echoed. */
let answer: (request: Seen, response: ServerResponse) => void

function echo(request: Seen, response: ServerResponse): void {
  response.writeHead(200, {'content-type': 'application/json'})
  response.end(JSON.stringify({method: request.method, url: request.url, body: request.body === '' ? null : (JSON.parse(request.body) as unknown)}))
}

const scripted = serveDuringTests((request, response) => {
  let body = ''
  request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
  request.on('end', () => {
    const entry = {method: request.method ?? '', url: request.url ?? '', headers: request.headers, body}
    seen.push(entry)
    answer(entry, response)
  })
})
beforeEach(() => {
  seen = []
  answer = echo
})

/** A transport to the scripted server (or to another port), with a static token. */
function transport(timeoutMs = 2_000, to = scripted.port): KubernetesTransport {
  const url = `http://127.0.0.1:${to}`
  const credentials = new ReloadableCredentials(() => {
    const config = new KubeConfig()
    config.loadFromOptions({
      clusters: [{name: 'fake', server: url, skipTLSVerify: true}],
      users: [{name: 'me', token: TOKEN}],
      contexts: [{name: 'test', cluster: 'fake', user: 'me'}],
      currentContext: 'test',
    })
    return config
  })
  return new KubernetesTransport(url, credentials, timeoutMs)
}

describe('KubernetesTransport.send', () => {
  test('sends method, path, query, body and content type as given, with the token, and parses the answer', async () => {
    const sent = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'demo-a'}, spec: {finalizers: ['kubernetes']}}

    const got = await transport().send({
      method: 'PATCH',
      path: '/api/v1/namespaces/demo-a',
      query: {fieldManager: 'demo-cli', force: 'true', skipped: undefined},
      body: sent,
      contentType: 'application/apply-patch+yaml',
    })

    assert.deepEqual(got, {method: 'PATCH', url: '/api/v1/namespaces/demo-a?fieldManager=demo-cli&force=true', body: sent})
    const request = seen[0] as Seen
    assert.equal(request.headers['content-type'], 'application/apply-patch+yaml')
    assert.equal(request.headers.authorization, `Bearer ${TOKEN}`)
    assert.equal(request.headers['user-agent'], 'demo-cli')
    assert.equal(request.headers.accept, 'application/json')
  })

  test('an answer outside 2xx is KubernetesApiError with the status, the body and the headers', async () => {
    answer = (_request, response) => {
      response.writeHead(429, {'content-type': 'application/json', 'retry-after': '3'})
      response.end(JSON.stringify({kind: 'Status', code: 429, message: 'too many requests'}))
    }

    const error = await rejectionOf(transport().send({method: 'GET', path: '/api/v1/namespaces'}))

    assert.ok(error instanceof KubernetesApiError)
    assert.equal(error.code, 429)
    assert.equal(error.headers['retry-after'], '3')
    assert.deepEqual(JSON.parse(error.body), {kind: 'Status', code: 429, message: 'too many requests'})
    assert.doesNotMatch(`${error.message} ${error.stack ?? ''}`, new RegExp(TOKEN))
  })

  test('an empty 2xx answer is undefined', async () => {
    answer = (_request, response) => response.writeHead(200).end()
    assert.equal(await transport().send({method: 'DELETE', path: '/api/v1/namespaces/demo-a'}), undefined)
  })

  test('a server that does not answer within the deadline: a TimeoutError, which the error rules call TIMEOUT', async () => {
    answer = () => undefined

    const error = await rejectionOf(transport(150).send({method: 'GET', path: '/api/v1/namespaces/kube-system'}))

    assert.equal(error.name, 'TimeoutError')
    assert.equal(networkFailureOf(error), 'TIMEOUT')
  })

  test('a server that is not there: the socket error code (ECONNREFUSED)', async () => {
    const error = await rejectionOf(transport(2_000, await refusedPort()).send({method: 'GET', path: '/api'}))

    assert.equal(networkFailureOf(error), 'ECONNREFUSED')
  })
})

describe('KubernetesTransport.watch', () => {
  /** Opens a watch; resolves with its events and how it ended. */
  function watchOnce(t: KubernetesTransport, query: Record<string, string> = {}) {
    const events: Array<[string, unknown]> = []
    let opened: Promise<{abort(): void}> | undefined
    const ended = new Promise<unknown>((resolve) => {
      opened = t.watch('/api/v1/namespaces', query, (type, object) => events.push([type, object]), resolve)
    })
    return {events, ended, opened: opened as unknown as Promise<{abort(): void}>}
  }

  test('delivers every event, also when lines are split across chunks, and ends with null when the server ends it', async () => {
    answer = (_request, response) => {
      response.writeHead(200, {'content-type': 'application/json'})
      const lines = ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}', '{"type":"DELETED","object":{"metadata":{"name":"b"}}}'].join('\n') + '\n'
      response.write(lines.slice(0, 20))
      setTimeout(() => response.write(lines.slice(20, 70)), 10)
      setTimeout(() => response.end(lines.slice(70)), 20)
    }

    const {events, ended} = watchOnce(transport(), {resourceVersion: '7', timeoutSeconds: '25'})

    assert.equal(await ended, null)
    assert.deepEqual(events, [
      ['ADDED', {metadata: {name: 'a'}}],
      ['DELETED', {metadata: {name: 'b'}}],
    ])
    assert.equal(seen[0]?.url, '/api/v1/namespaces?resourceVersion=7&timeoutSeconds=25&watch=true')
    assert.equal(seen[0]?.headers.authorization, `Bearer ${TOKEN}`)
  })

  test('a refused watch ends with KubernetesApiError of its status', async () => {
    answer = (_request, response) => response.writeHead(403).end('{}')
    const {events, ended} = watchOnce(transport())
    const error = await ended
    assert.ok(error instanceof KubernetesApiError)
    assert.equal(error.code, 403)
    assert.deepEqual(events, [])
  })

  test('a watch silent for longer than the deadline ends with a TimeoutError', async () => {
    answer = (_request, response) => response.writeHead(200, {'content-type': 'application/json'}).flushHeaders()
    const {ended} = watchOnce(transport(150))
    const error = (await ended) as Error
    assert.equal(error.name, 'TimeoutError')
  })

  test('abort() ends it with null and no event arrives after', async () => {
    answer = (_request, response) => {
      response.writeHead(200, {'content-type': 'application/json'})
      response.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n')
      setTimeout(() => response.write('{"type":"ADDED","object":{"metadata":{"name":"late"}}}\n'), 100)
    }
    const {events, ended, opened} = watchOnce(transport())
    const open = await opened
    await new Promise((resolve) => setTimeout(resolve, 30))
    open.abort()
    assert.equal(await ended, null)
    await new Promise((resolve) => setTimeout(resolve, 120))
    assert.deepEqual(
      events.map(([, object]) => (object as {metadata: {name: string}}).metadata.name),
      ['a'],
    )
  })
})
