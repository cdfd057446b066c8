// The adapter's HTTP transport (src/adapters/kubernetes/transport.ts) against a scripted API server: bodies and
// headers as sent, answers as parsed, statuses as KubernetesApiError, the per-request deadline, and watches whose
// events arrive split across chunks, end, fail or go quiet. Each over plain HTTP/1.1, over HTTP/2 with TLS (as to
// kube-apiserver), and over HTTP/1.1 with TLS (a server without HTTP/2); then what only HTTP/2 has: one connection,
// GOAWAY, a reset stream.
import assert from 'node:assert/strict'
import type {IncomingHttpHeaders, IncomingMessage, ServerResponse} from 'node:http'
import {constants as http2Constants, type Http2ServerRequest, type Http2ServerResponse} from 'node:http2'
import {beforeEach, describe, test} from 'node:test'
import {KubeConfig} from '@kubernetes/client-node'
import {networkFailureOf, retryDecisionFor} from '../../src/adapters/kubernetes/api-errors.js'
import {ReloadableCredentials} from '../../src/adapters/kubernetes/credentials.js'
import {KubernetesApiError} from '../../src/adapters/kubernetes/rest.js'
import {KubernetesTransport} from '../../src/adapters/kubernetes/transport.js'
import {rejectionOf} from '../support/failures.js'
import {refusedPort, serveDuringTests} from '../support/scripted-server.js'
import {selfSignedFor127, serveTlsDuringTests} from '../support/tls-server.js'

const TOKEN = 'transport-token-canary-3c1f'

interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
  httpVersion: string
}

/** The part of node:http's and node:http2's (compatibility) answer objects the scripted answers use. */
type ScriptedResponse = Pick<ServerResponse, 'write' | 'flushHeaders'> & {
  writeHead(status: number, headers?: Record<string, string>): ScriptedResponse
  end(text?: string): unknown
}

let seen: Seen[] = []
/** How the server answers the next request; default: 200 with the request echoed. */
let answer: (request: Seen, response: ScriptedResponse) => void

function echo(request: Seen, response: ScriptedResponse): void {
  response.writeHead(200, {'content-type': 'application/json'})
  response.end(JSON.stringify({method: request.method, url: request.url, body: request.body === '' ? null : (JSON.parse(request.body) as unknown)}))
}

function scriptedHandler(request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): void {
  let body = ''
  request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
  request.on('end', () => {
    const entry = {method: request.method ?? '', url: request.url ?? '', headers: request.headers, body, httpVersion: request.httpVersion}
    seen.push(entry)
    answer(entry, response as unknown as ScriptedResponse)
  })
}

const PAIR = selfSignedFor127()
const plain = serveDuringTests(scriptedHandler)
const h2 = serveTlsDuringTests('h2', PAIR, scriptedHandler)
const http1OverTls = serveTlsDuringTests('http1', PAIR, scriptedHandler)
beforeEach(() => {
  seen = []
  answer = echo
})

/** How a transport reaches one of the scripted servers, and the HTTP version the server should see. */
interface Protocol {
  name: string
  scheme: 'http' | 'https'
  port(): number
  httpVersion: string
}

const PROTOCOLS: Protocol[] = [
  {name: 'HTTP/1.1', scheme: 'http', port: () => plain.port, httpVersion: '1.1'},
  {name: 'HTTP/2 with TLS', scheme: 'https', port: () => h2.port, httpVersion: '2.0'},
  {name: 'HTTP/1.1 with TLS, from a server without HTTP/2', scheme: 'https', port: () => http1OverTls.port, httpVersion: '1.1'},
]

/**
 * A transport to `to` (scheme and port), with a static token; over https it trusts the scripted servers' certificate
 * (`trusted: false`: nothing but the system's CAs).
 */
function transportTo(
  to: {scheme: 'http' | 'https'; port: number},
  options: {timeoutMs?: number; http2?: boolean; trusted?: boolean} = {},
): KubernetesTransport {
  const url = `${to.scheme}://127.0.0.1:${to.port}`
  // Plain http: the client refuses it unless TLS checks are off (there is no TLS to check).
  const trust = to.scheme === 'http' ? {skipTLSVerify: true} : options.trusted === false ? {} : {caData: Buffer.from(PAIR.cert).toString('base64')}
  const credentials = new ReloadableCredentials(() => {
    const config = new KubeConfig()
    config.loadFromOptions({
      clusters: [{name: 'fake', server: url, ...trust}],
      users: [{name: 'me', token: TOKEN}],
      contexts: [{name: 'test', cluster: 'fake', user: 'me'}],
      currentContext: 'test',
    })
    return config
  })
  return new KubernetesTransport(url, credentials, options.timeoutMs ?? 2_000, options.http2 === undefined ? {} : {http2: options.http2})
}

for (const protocol of PROTOCOLS) {
  /** A transport to this protocol's server (or to another port: nothing listens there). */
  const transport = (timeoutMs = 2_000, port = protocol.port()) => transportTo({scheme: protocol.scheme, port}, {timeoutMs})

  describe(`KubernetesTransport.send, ${protocol.name}`, () => {
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
      assert.equal(request.httpVersion, protocol.httpVersion)
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

  describe(`KubernetesTransport.watch, ${protocol.name}`, () => {
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
        const lines =
          ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}', '{"type":"DELETED","object":{"metadata":{"name":"b"}}}'].join('\n') + '\n'
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
      assert.equal(seen[0]?.httpVersion, protocol.httpVersion)
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
}

describe('KubernetesTransport over HTTP/2', () => {
  const to = () => ({scheme: 'https' as const, port: h2.port})
  /** The server side of the request being answered (node:http2's compatibility API keeps its stream). */
  const streamOf = (response: ScriptedResponse) => (response as unknown as Http2ServerResponse).stream

  test('sends every request and watch of a transport over one connection', async () => {
    const before = h2.connections
    const t = transportTo(to())
    const ended = new Promise((resolve) => {
      void t.watch('/api/v1/namespaces', {}, () => undefined, resolve)
    })
    await Promise.all(Array.from({length: 12}, (_, i) => t.send({method: 'GET', path: `/api/v1/namespaces/demo-${i}`})))

    assert.equal(await ended, null)
    assert.equal(seen.length, 13)
    assert.ok(seen.every((request) => request.httpVersion === '2.0'))
    assert.equal(h2.connections - before, 1)
  })

  test('the connection keeps the process alive while a stream is open, and only then', async () => {
    // Handles that keep the event loop alive; the server's own sockets (in this process too) stay open throughout.
    const socketHandles = () => process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap').length
    const t = transportTo(to())
    const settled = () => new Promise((resolve) => setTimeout(resolve, 20))
    await t.send({method: 'GET', path: '/api/warm-up'})
    await settled() // the stream's 'close' comes after its answer's end
    const idle = socketHandles()
    let release: (() => void) | undefined
    answer = (request, response) => (release = () => echo(request, response))

    const sent = t.send({method: 'GET', path: '/api/slow'})
    while (!release) await new Promise((resolve) => setTimeout(resolve, 5))
    const busy = socketHandles()
    release()
    await sent
    await settled()

    assert.equal(busy - idle, 1)
    assert.equal(socketHandles(), idle)
  })

  test('with http2: false (DISABLE_HTTP2) it sends over HTTP/1.1 to the same server', async () => {
    await transportTo(to(), {http2: false}).send({method: 'GET', path: '/api'})
    assert.equal(seen[0]?.httpVersion, '1.1')
  })

  test('a connection the server lets go (GOAWAY) is not used again: the next request opens a new one', async () => {
    const t = transportTo(to())
    const before = h2.connections
    answer = (request, response) => {
      echo(request, response)
      streamOf(response).session?.goaway()
    }
    await t.send({method: 'GET', path: '/api/first'})
    answer = echo
    await new Promise((resolve) => setTimeout(resolve, 20))

    const second = (await t.send({method: 'GET', path: '/api/second'})) as {url: string}

    assert.equal(second.url, '/api/second')
    assert.equal(h2.connections - before, 2)
  })

  test('a stream the server resets fails as a reset connection (ECONNRESET, retried); the connection still serves', async () => {
    const t = transportTo(to())
    answer = (_request, response) => streamOf(response).close(http2Constants.NGHTTP2_INTERNAL_ERROR)

    const error = await rejectionOf(t.send({method: 'PATCH', path: '/api/v1/namespaces/demo-a', body: {}}))

    assert.equal(networkFailureOf(error), 'ECONNRESET')
    assert.equal(retryDecisionFor(error).retry, true)
    assert.match(error.message, /HTTP\/2 stream failed/)
    answer = echo
    assert.deepEqual(await t.send({method: 'GET', path: '/api'}), {method: 'GET', url: '/api', body: null})
  })

  test('a watch whose connection the server closes ends (and its ListWatch lists again)', async () => {
    answer = (_request, response) => {
      response.writeHead(200, {'content-type': 'application/json'})
      response.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n')
      setTimeout(() => streamOf(response).session?.destroy(), 20)
    }
    const events: string[] = []
    const ended = await new Promise<unknown>((resolve) => {
      void transportTo(to()).watch('/api/v1/namespaces', {}, (type) => events.push(type), resolve)
    })
    assert.deepEqual(events, ['ADDED'])
    assert.ok(ended === null || networkFailureOf(ended) === 'ECONNRESET', String(ended))
  })

  test('a stream the server closes without an answer and without an error ends the request and the watch at once', {timeout: 5_000}, async () => {
    answer = (_request, response) => streamOf(response).close(http2Constants.NGHTTP2_NO_ERROR)
    const t = transportTo(to(), {timeoutMs: 1_500})

    const error = await rejectionOf(t.send({method: 'GET', path: '/api'}))
    let opened: Promise<unknown> | undefined
    const ended = await new Promise<unknown>((resolve) => {
      opened = t.watch('/api/v1/namespaces', {}, () => undefined, resolve)
    })

    assert.equal(networkFailureOf(error), 'ECONNRESET')
    assert.equal(ended, null)
    // watch() itself resolves too (a ListWatch awaits it before it lists again).
    assert.ok(await opened)
  })

  test('a certificate it cannot trust fails with the TLS error, which is not retried', async () => {
    const error = await rejectionOf(transportTo(to(), {trusted: false}).send({method: 'GET', path: '/api'}))

    assert.equal(networkFailureOf(error), 'DEPTH_ZERO_SELF_SIGNED_CERT')
    assert.equal(retryDecisionFor(error).retry, false)
    assert.equal(seen.length, 0)
  })
})
