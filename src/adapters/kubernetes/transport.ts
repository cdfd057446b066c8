import type {Agent, ClientRequest, IncomingHttpHeaders, RequestOptions} from 'node:http'
import type {ClientHttp2Stream, IncomingHttpHeaders as Http2Headers, OutgoingHttpHeaders} from 'node:http2'
import type {AgentOptions} from 'node:https'
import type {Readable} from 'node:stream'
import {authenticateAgain, type Authentication, type ReloadableCredentials, type TlsMaterial} from './credentials.js'
import {Http2Origin} from './http2-origin.js'
import {KubernetesApiError, type RawRequest} from './rest.js'

// Through getBuiltinModule, not an ES import: importing node:http as an ES module reads all its exports, and three
// of them are getters that load Node's copy of undici (~40 ms of every command that talks to a cluster).
const http = process.getBuiltinModule('node:http')
const https = process.getBuiltinModule('node:https')
const tlsModule = process.getBuiltinModule('node:tls')

/** One watch event as the API server streams it (a JSON object per line). */
export type WatchCallback = (type: string, object: never) => void

/** What a watch hands back once it is open (or has failed: then onDone was called already). */
export interface OpenWatch {
  abort(): void
}

interface Answer {
  status: number
  headers: Record<string, string>
  text: string
}

/** A request's deadline passed: what networkFailureOf (api-errors.ts) reads as "TIMEOUT". */
function timeoutError(timeoutMs: number): Error {
  const error = new Error(`no answer within ${timeoutMs} ms`)
  error.name = 'TimeoutError'
  return error
}

/** An answer's headers as name → value (HTTP/2's pseudo-headers, such as :status, left out). */
function headersOf(received: IncomingHttpHeaders | Http2Headers): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(received))
    if (value !== undefined && !name.startsWith(':')) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
  return headers
}

/**
 * A stream of an HTTP/2 connection that failed before its answer ended (the connection was reset or went away, the
 * server reset the stream): reported as a reset connection is over HTTP/1.1 (ECONNRESET), with the cause, so the
 * retry rules (api-errors.ts) treat both alike. A deadline or a socket error keeps its own name and code.
 */
function streamFailure(error: unknown): Error {
  if (!(error instanceof Error)) return Object.assign(new Error(`the HTTP/2 stream failed: ${String(error)}`), {code: 'ECONNRESET'})
  const code = (error as NodeJS.ErrnoException).code
  if (error.name === 'TimeoutError' || (code !== undefined && !code.startsWith('ERR_HTTP2_'))) return error
  return Object.assign(new Error(`the HTTP/2 stream failed: ${error.message}`, {cause: error}), {code: 'ECONNRESET'})
}

const NGHTTP2_CANCEL = 0x8

function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  const text = (value: string | Buffer | undefined) => (value === undefined ? '' : typeof value === 'string' ? value : value.toString('utf8'))
  return (
    text(a.ca) === text(b.ca) &&
    text(a.cert) === text(b.cert) &&
    text(a.key) === text(b.key) &&
    a.servername === b.servername &&
    a.rejectUnauthorized === b.rejectUnauthorized
  )
}

/** Calls `onEvent` for each line of a watch's answer (one JSON event per line, split anywhere across chunks). */
function streamEvents(response: Readable, onEvent: WatchCallback, onData: () => void): void {
  let pending = ''
  response.setEncoding('utf8')
  response.on('data', (chunk: string) => {
    onData()
    pending += chunk
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end).trim()
      pending = pending.slice(end + 1)
      if (line !== '') parseEvent(line, onEvent)
    }
  })
}

function parseEvent(line: string, onEvent: WatchCallback): void {
  let event: {type: string; object: never}
  try {
    event = JSON.parse(line) as {type: string; object: never}
  } catch {
    return // A line that is not an event: the next list resynchronises.
  }
  onEvent(event.type, event.object)
}

/**
 * The connections to an https server for `tls` (undefined fields left to Node's defaults): an HTTP/2 connection
 * (http2-origin.ts), and a keep-alive pool for HTTP/1.1 (a server or proxy without HTTP/2, a request beyond the
 * server's streams per connection, DISABLE_HTTP2 set, as client-go reads it). Both share one TLS context: given ca,
 * cert and key instead, Node builds a context for every new connection, parsing the CA and the key again (~20 ms of
 * CPU per create, measured with --cpu-prof).
 */
function connectionsTo(server: URL, tls: TlsMaterial, timeoutMs: number, http2: boolean): {agent: Agent; http2: Http2Origin | undefined} {
  const options: AgentOptions = {keepAlive: true, scheduling: 'lifo'}
  if (tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined) {
    options.secureContext = tlsModule.createSecureContext({ca: tls.ca, cert: tls.cert, key: tls.key})
  }
  if (tls.servername !== undefined) options.servername = tls.servername
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized
  const target = {
    origin: server,
    secureContext: options.secureContext,
    servername: tls.servername,
    rejectUnauthorized: tls.rejectUnauthorized,
    timeoutMs,
  }
  return {agent: new https.Agent(options), http2: http2 ? new Http2Origin(target) : undefined}
}

/** Closes the idle connections of a pool no longer used; its requests in flight finish on theirs. */
function closeIdle(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) sockets?.forEach((socket) => socket.destroy())
}

/** A request's headers: what it accepts, who sends it, the credentials' headers, the body's type and length. */
function headersFor(auth: Authentication, body: {contentType: string; length: number} | undefined): Record<string, string | number> {
  const headers: Record<string, string | number> = {Accept: 'application/json', 'User-Agent': 'demo-cli', ...auth.headers}
  if (body) {
    headers['Content-Type'] = body.contentType
    headers['Content-Length'] = body.length
  }
  return headers
}

/** One request's whole answer over an HTTP/2 stream, within the deadline. */
function exchangeOverHttp2(stream: ClientHttp2Stream, body: string | undefined, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answer: {status: number; headers: Record<string, string>} | undefined
    const chunks: Buffer[] = []
    let settled = false
    const settle = (error: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (answer && error === undefined) resolve({...answer, text: Buffer.concat(chunks).toString('utf8')})
      else {
        stream.close(NGHTTP2_CANCEL)
        reject(streamFailure(error ?? new Error('the stream closed before its answer ended')))
      }
    }
    const timer = setTimeout(() => settle(timeoutError(timeoutMs)), timeoutMs)
    timer.unref()
    stream.once('response', (headers) => (answer = {status: Number(headers[':status']), headers: headersOf(headers)}))
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.once('end', () => settle(undefined))
    stream.once('error', settle)
    stream.once('close', () => settle(new Error('the stream closed before its answer ended')))
    stream.end(body)
  })
}

/** A watch's life: its deadline for silence, how it is cancelled, and the one call of onDone. */
class WatchLife {
  finished = false
  private timer: NodeJS.Timeout | undefined
  private cancel: (() => void) | undefined

  constructor(
    private readonly timeoutMs: number,
    private readonly onDone: (error: unknown) => void,
  ) {
    this.quiet()
  }

  /** Silence from now on ends the watch after the deadline (a TimeoutError). */
  quiet(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.finish(timeoutError(this.timeoutMs)), this.timeoutMs)
    this.timer.unref()
  }

  onCancel(cancel: () => void): void {
    this.cancel = cancel
  }

  finish(error: unknown): void {
    if (this.finished) return
    this.finished = true
    clearTimeout(this.timer)
    this.cancel?.()
    this.onDone(error)
  }
}

/**
 * HTTP to the API server with node:http2 (node:http(s) where HTTP/2 is not to be had), authenticated by the
 * kubeconfig through the client library (credentials.ts). Requests share connections: one HTTP/2 connection (or
 * an HTTP/1.1 keep-alive pool) per loaded kubeconfig and TLS material, so a create's ~30 requests cost one TLS
 * handshake, not one each (the client made a new pool per request). Every request has its own deadline; a 401
 * loads the credentials again and is sent once more.
 */
export class KubernetesTransport {
  private pool: {generation: number; tls: TlsMaterial; agent: Agent; http2: Http2Origin | undefined} | undefined
  private readonly plainAgent = new http.Agent({keepAlive: true})

  /** `options.http2`: false sends over HTTP/1.1 only (DISABLE_HTTP2). */
  constructor(
    private readonly server: string,
    private readonly credentials: ReloadableCredentials,
    private readonly timeoutMs: number,
    private readonly options: {http2?: boolean} = {},
  ) {}

  /** Sends `request`; the parsed answer of a 2xx, KubernetesApiError for any other status. */
  async send(request: RawRequest): Promise<unknown> {
    const seen = this.credentials.generation
    let answer = await this.exchange(request, await this.credentials.authentication())
    if (answer.status === 401) answer = await this.exchange(request, await authenticateAgain(this.credentials, seen))
    if (answer.status < 200 || answer.status > 299) throw new KubernetesApiError(answer.status, answer.text, answer.headers)
    return answer.text === '' ? undefined : (JSON.parse(answer.text) as unknown)
  }

  /**
   * Opens a watch (`?watch=true`) on `path`. `onEvent` gets each event, `onDone` is called once when the stream
   * ends: by the server (null), a failure or a refusal (the error), silence for longer than the request deadline
   * (a TimeoutError), or abort() (null). Resolves once the answer's headers arrived or the request failed.
   */
  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: WatchCallback,
    onDone: (error: unknown) => void,
  ): Promise<OpenWatch> {
    const url = this.urlOf(path, {...query, watch: true})
    const auth = await this.credentials.authentication()
    const life = new WatchLife(this.timeoutMs, onDone)
    const opened = {abort: () => life.finish(null)}
    const events: WatchCallback = (type, object) => life.finished || onEvent(type, object)
    let stream: ClientHttp2Stream | undefined
    try {
      stream = await this.http2Stream(url, auth, 'GET', headersFor(auth, undefined))
    } catch (error) {
      life.finish(streamFailure(error))
      return opened
    }
    if (life.finished) {
      stream?.close(NGHTTP2_CANCEL)
      return opened
    }
    return new Promise((resolve) => {
      const ready = () => resolve(opened)
      if (stream) watchOverHttp2(stream, life, events, ready)
      else this.watchOverHttp1(url, auth, life, {onEvent: events, ready})
    })
  }

  private watchOverHttp1(url: URL, auth: Authentication, life: WatchLife, {onEvent, ready}: {onEvent: WatchCallback; ready: () => void}): void {
    const options = {headers: headersFor(auth, undefined), agent: this.agentFor(url, auth)}
    const request: ClientRequest = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      ready()
      if (response.statusCode !== 200) {
        response.resume()
        life.finish(new KubernetesApiError(response.statusCode ?? 0, '', headersOf(response.headers)))
        return
      }
      life.quiet()
      streamEvents(response, onEvent, () => life.quiet())
      response.on('end', () => life.finish(null))
      response.on('error', (error) => life.finish(error))
      response.on('close', () => life.finish(null))
    })
    life.onCancel(() => request.destroy())
    request.on('error', (error) => {
      ready()
      life.finish(error)
    })
    request.end()
  }

  private urlOf(path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
    const url = new URL(this.server.replace(/\/+$/, '') + path)
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value))
    return url
  }

  /** The connections for `url` with `auth`: new ones when the credentials or their TLS material changed. */
  private connections(auth: Authentication): {agent: Agent; http2: Http2Origin | undefined} {
    const generation = this.credentials.generation
    if (this.pool?.generation === generation && sameTls(this.pool.tls, auth.tls)) return this.pool
    if (this.pool) {
      closeIdle(this.pool.agent)
      this.pool.http2?.close()
    }
    const server = new URL(this.server)
    this.pool = {generation, tls: auth.tls, ...connectionsTo(server, auth.tls, this.timeoutMs, this.options.http2 ?? true)}
    return this.pool
  }

  private agentFor(url: URL, auth: Authentication): Agent {
    if (auth.proxyAgent) return auth.proxyAgent
    if (url.protocol !== 'https:') return this.plainAgent
    return this.connections(auth).agent
  }

  /** A stream for the request on the HTTP/2 connection, or undefined: send it over HTTP/1.1 (agentFor). */
  private async http2Stream(
    url: URL,
    auth: Authentication,
    method: string,
    headers: Record<string, string | number>,
  ): Promise<ClientHttp2Stream | undefined> {
    if (auth.proxyAgent || url.protocol !== 'https:') return undefined
    const origin = this.connections(auth).http2
    if (!origin) return undefined
    const sent: OutgoingHttpHeaders = {':method': method, ':path': url.pathname + url.search}
    for (const [name, value] of Object.entries(headers)) sent[name.toLowerCase()] = value
    return origin.stream(sent)
  }

  /** One request and its whole answer, within the deadline. */
  private async exchange(request: RawRequest, auth: Authentication): Promise<Answer> {
    const url = this.urlOf(request.path, request.query)
    const body = request.body === undefined ? undefined : JSON.stringify(request.body)
    const headers = headersFor(
      auth,
      body === undefined ? undefined : {contentType: request.contentType ?? 'application/json', length: Buffer.byteLength(body)},
    )
    let stream: ClientHttp2Stream | undefined
    try {
      stream = await this.http2Stream(url, auth, request.method, headers)
    } catch (error) {
      throw streamFailure(error)
    }
    return stream ? exchangeOverHttp2(stream, body, this.timeoutMs) : this.exchangeOverHttp1(url, {method: request.method, headers, body}, auth)
  }

  private exchangeOverHttp1(
    url: URL,
    {method, headers, body}: {method: string; headers: Record<string, string | number>; body: string | undefined},
    auth: Authentication,
  ): Promise<Answer> {
    const options: RequestOptions = {headers, agent: this.agentFor(url, auth), method}
    return new Promise((resolve, reject) => {
      let settled = false
      const fail = (error: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        outgoing.destroy()
        reject(error instanceof Error ? error : new Error(String(error)))
      }
      const timer = setTimeout(() => fail(timeoutError(this.timeoutMs)), this.timeoutMs)
      timer.unref()
      const outgoing = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', fail)
        response.on('end', () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve({status: response.statusCode ?? 0, headers: headersOf(response.headers), text: Buffer.concat(chunks).toString('utf8')})
        })
      })
      outgoing.on('error', fail)
      outgoing.end(body)
    })
  }
}

/** A watch over an HTTP/2 stream: as watchOverHttp1, on the stream's events. */
function watchOverHttp2(stream: ClientHttp2Stream, life: WatchLife, onEvent: WatchCallback, ready: () => void): void {
  life.onCancel(() => stream.close(NGHTTP2_CANCEL))
  stream.once('response', (headers) => {
    ready()
    const status = Number(headers[':status'])
    if (status !== 200) {
      stream.resume()
      life.finish(new KubernetesApiError(status, '', headersOf(headers)))
      return
    }
    life.quiet()
    streamEvents(stream, onEvent, () => life.quiet())
  })
  stream.on('end', () => life.finish(null))
  stream.on('error', (error) => {
    ready()
    life.finish(streamFailure(error))
  })
  stream.on('close', () => {
    ready()
    life.finish(null)
  })
  stream.end()
}
