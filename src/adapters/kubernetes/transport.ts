import type {Agent, ClientRequest, IncomingMessage, RequestOptions} from 'node:http'
import type {AgentOptions} from 'node:https'
import {authenticateAgain, type Authentication, type ReloadableCredentials, type TlsMaterial} from './credentials.js'
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

function headersOf(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  return headers
}

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
function streamEvents(response: IncomingMessage, onEvent: WatchCallback, onData: () => void): void {
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
 * An https keep-alive pool with `tls` (undefined fields left to Node's defaults). Its connections share one TLS
 * context: given ca, cert and key instead, Node builds a context for every new connection, parsing the CA and the
 * key again (~20 ms of CPU per create, measured with --cpu-prof).
 */
function poolFor(tls: TlsMaterial): Agent {
  const options: AgentOptions = {keepAlive: true, scheduling: 'lifo'}
  if (tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined) {
    options.secureContext = tlsModule.createSecureContext({ca: tls.ca, cert: tls.cert, key: tls.key})
  }
  if (tls.servername !== undefined) options.servername = tls.servername
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized
  return new https.Agent(options)
}

/** Closes the idle connections of a pool no longer used; its requests in flight finish on theirs. */
function closeIdle(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) sockets?.forEach((socket) => socket.destroy())
}

/**
 * HTTP to the API server with node:http(s), authenticated by the kubeconfig through the client library
 * (credentials.ts). Requests share keep-alive connections: one pool per loaded kubeconfig and TLS material, so a
 * create's ~30 requests cost a few TLS handshakes, not one each (the client made a new pool per request). Every
 * request has its own deadline; a 401 loads the credentials again and is sent once more.
 */
export class KubernetesTransport {
  private pool: {generation: number; tls: TlsMaterial; agent: Agent} | undefined
  private readonly plainAgent = new http.Agent({keepAlive: true})

  constructor(
    private readonly server: string,
    private readonly credentials: ReloadableCredentials,
    private readonly timeoutMs: number,
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
    const options = this.optionsFor(url, await this.credentials.authentication(), undefined)
    let finished = false
    let timer: NodeJS.Timeout | undefined
    let request: ClientRequest | undefined
    const finish = (error: unknown) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      request?.destroy()
      onDone(error)
    }
    const quiet = () => {
      clearTimeout(timer)
      timer = setTimeout(() => finish(timeoutError(this.timeoutMs)), this.timeoutMs)
      timer.unref()
    }
    return new Promise((resolve) => {
      const opened = {abort: () => finish(null)}
      quiet()
      request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
        resolve(opened)
        if (response.statusCode !== 200) {
          response.resume()
          finish(new KubernetesApiError(response.statusCode ?? 0, '', headersOf(response)))
          return
        }
        quiet()
        streamEvents(response, (type, object) => finished || onEvent(type, object), quiet)
        response.on('end', () => finish(null))
        response.on('error', finish)
        response.on('close', () => finish(null))
      })
      request.on('error', (error) => {
        resolve(opened)
        finish(error)
      })
      request.end()
    })
  }

  private urlOf(path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
    const url = new URL(this.server.replace(/\/+$/, '') + path)
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value))
    return url
  }

  private optionsFor(url: URL, auth: Authentication, body: {contentType: string; length: number} | undefined): RequestOptions {
    const headers: Record<string, string | number> = {Accept: 'application/json', 'User-Agent': 'demo-cli', ...auth.headers}
    if (body) {
      headers['Content-Type'] = body.contentType
      headers['Content-Length'] = body.length
    }
    return {headers, agent: this.agentFor(url, auth)}
  }

  private agentFor(url: URL, auth: Authentication): Agent {
    if (auth.proxyAgent) return auth.proxyAgent
    if (url.protocol !== 'https:') return this.plainAgent
    const generation = this.credentials.generation
    if (this.pool?.generation === generation && sameTls(this.pool.tls, auth.tls)) return this.pool.agent
    if (this.pool) closeIdle(this.pool.agent)
    this.pool = {generation, tls: auth.tls, agent: poolFor(auth.tls)}
    return this.pool.agent
  }

  /** One request and its whole answer, within the deadline. */
  private exchange(request: RawRequest, auth: Authentication): Promise<Answer> {
    const url = this.urlOf(request.path, request.query)
    const body = request.body === undefined ? undefined : JSON.stringify(request.body)
    const options = this.optionsFor(
      url,
      auth,
      body === undefined ? undefined : {contentType: request.contentType ?? 'application/json', length: Buffer.byteLength(body)},
    )
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
      const outgoing = (url.protocol === 'https:' ? https : http).request(url, {...options, method: request.method}, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', fail)
        response.on('end', () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve({status: response.statusCode ?? 0, headers: headersOf(response), text: Buffer.concat(chunks).toString('utf8')})
        })
      })
      outgoing.on('error', fail)
      outgoing.end(body)
    })
  }
}
