import type {ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders} from 'node:http2'
import type {SecureContext, TLSSocket} from 'node:tls'

// Through getBuiltinModule, like node:http(s) in transport.ts: loaded when the first connection is made.
const tlsModule = () => process.getBuiltinModule('node:tls')
const netModule = () => process.getBuiltinModule('node:net')
const http2Module = () => process.getBuiltinModule('node:http2')

/** How to reach one https origin: the TLS context shared by every connection to it, and the name to verify. */
export interface Http2Target {
  origin: URL
  secureContext: SecureContext | undefined
  servername: string | undefined
  rejectUnauthorized: boolean | undefined
  /** How long the TCP and TLS handshake may take: the transport's request deadline. */
  timeoutMs: number
}

/**
 * One HTTP/2 connection to an API server, for every request and watch of a process, as kubectl and client-go do:
 * a create's ~30 requests then cost one TLS handshake instead of seven connections' (~40 ms of CPU less per
 * create, docs/decisions.md). The TLS handshake offers h2 and http/1.1 (ALPN); a server that picks http/1.1 (a
 * proxy in front of the API server) is remembered, and `stream()` answers undefined from then on: the caller sends
 * over HTTP/1.1. A connection that fails, is closed or told to go away (GOAWAY) is dropped; the next request opens
 * a new one. The connection keeps the process alive only while a stream is open, like an idle keep-alive socket.
 */
export class Http2Origin {
  private connecting: Promise<ClientHttp2Session | undefined> | undefined
  private http1Only = false
  /** Streams open on each connection: it keeps the process alive while it has any. */
  private readonly open = new WeakMap<ClientHttp2Session, number>()
  /** Which connect() made each session, so that forget() drops that connection only. */
  private readonly sessions = new WeakMap<ClientHttp2Session, Promise<ClientHttp2Session | undefined> | undefined>()

  constructor(private readonly target: Http2Target) {}

  /**
   * A new stream with `headers` (pseudo-headers included), or undefined when this origin is to be used over HTTP/1.1:
   * its server does not speak HTTP/2, or the connection has as many streams open as the server allows. Rejects with
   * the connection's failure (refused, TLS, ...), as an HTTP/1.1 request would fail.
   */
  async stream(headers: OutgoingHttpHeaders): Promise<ClientHttp2Stream | undefined> {
    let session = await this.session()
    if (session && (session.closed || session.destroyed)) {
      // Closing (a GOAWAY whose event has not run yet): a new connection.
      this.forget(session)
      session = await this.session()
    }
    const open = session ? (this.open.get(session) ?? 0) : 0
    if (!session || open >= (session.remoteSettings.maxConcurrentStreams ?? Infinity)) return undefined
    const stream = session.request(headers, {endStream: false})
    this.open.set(session, open + 1)
    if (open === 0) session.ref()
    stream.once('close', () => {
      const left = (this.open.get(session) ?? 1) - 1
      this.open.set(session, left)
      if (left === 0 && !session.destroyed) session.unref()
    })
    return stream
  }

  /** Closes the connection once its open streams have ended (the credentials changed); new streams open a new one. */
  close(): void {
    const connecting = this.connecting
    this.connecting = undefined
    void connecting?.then((session) => session?.close()).catch(() => undefined)
  }

  private session(): Promise<ClientHttp2Session | undefined> {
    if (this.http1Only) return Promise.resolve(undefined)
    this.connecting ??= this.connect().catch((error: unknown) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  private async connect(): Promise<ClientHttp2Session | undefined> {
    const socket = await this.handshake()
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy()
      this.http1Only = true
      this.connecting = undefined
      return undefined
    }
    const session = http2Module().connect(this.target.origin, {createConnection: () => socket})
    const drop = () => this.forget(session)
    // A failed connection is reported to its streams (each fails on its own); the session itself is just dropped.
    session.on('error', drop)
    session.once('goaway', drop)
    session.once('close', drop)
    session.unref()
    this.sessions.set(session, this.connecting)
    return session
  }

  /** No new streams on `session`: the next one connects again (unless a newer connection is there already). */
  private forget(session: ClientHttp2Session): void {
    if (this.connecting !== undefined && this.sessions.get(session) === this.connecting) this.connecting = undefined
  }

  /** The TLS connection, offering h2 first; rejects with the socket's or the certificate check's error. */
  private handshake(): Promise<TLSSocket> {
    const {origin, secureContext, servername, rejectUnauthorized, timeoutMs} = this.target
    const host = origin.hostname.replace(/^\[(.*)\]$/, '$1')
    return new Promise((resolve, reject) => {
      const socket = tlsModule().connect({
        host,
        port: Number(origin.port || 443),
        // SNI carries a name, never an address (as node:https does).
        servername: servername ?? (netModule().isIP(host) ? undefined : host),
        secureContext,
        ...(rejectUnauthorized === undefined ? {} : {rejectUnauthorized}),
        ALPNProtocols: ['h2', 'http/1.1'],
      })
      socket.setTimeout(timeoutMs, () => {
        const error = new Error(`no TLS handshake within ${timeoutMs} ms`)
        error.name = 'TimeoutError'
        socket.destroy(error)
      })
      socket.once('secureConnect', () => {
        socket.off('error', reject)
        socket.setTimeout(0)
        resolve(socket)
      })
      socket.once('error', reject)
    })
  }
}
