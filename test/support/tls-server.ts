import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session} from 'node:http2'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before} from 'node:test'
import {tempDir} from './databases.js'

/** A self-signed certificate for 127.0.0.1 (its subjectAltName), made with openssl at test time. */
export function selfSignedFor127(): {key: string; cert: string} {
  const dir = tempDir('demo-tls-')
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2'],
    ],
    {stdio: 'ignore'},
  )
  return {key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8')}
}

/** What both servers hand a handler: node:http2's compatibility API has node:http's shape for what tests use. */
export type TlsHandler = (request: Http2ServerRequest, response: Http2ServerResponse) => void

/**
 * An https server on 127.0.0.1 with `pair`, for the tests of one file: `h2` speaks HTTP/2 and HTTP/1.1 (ALPN, as
 * kube-apiserver does), `http1` HTTP/1.1 only (a proxy in front of an API server). It listens before the tests and is
 * closed after them. `connections` counts the TLS connections it accepted.
 */
export function serveTlsDuringTests(
  kind: 'h2' | 'http1',
  pair: {key: string; cert: string},
  handler: TlsHandler,
): {readonly server: Http2SecureServer | Server; readonly port: number; connections: number} {
  const server: Http2SecureServer | Server =
    kind === 'h2'
      ? createSecureServer({...pair, allowHTTP1: true}, handler)
      : createServer(pair, handler as unknown as Parameters<typeof createServer>[1])
  const state = {server, port: 0, connections: 0}
  server.on('secureConnection', () => (state.connections += 1))
  // A client's HTTP/2 connection stays open after its requests (ours does, unreferenced): closed with the server.
  const sessions = new Set<ServerHttp2Session>()
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    state.port = (server.address() as AddressInfo).port
  })
  after(() => {
    for (const session of sessions) session.destroy()
    if ('closeAllConnections' in server) server.closeAllConnections()
    server.close()
  })
  return state
}
