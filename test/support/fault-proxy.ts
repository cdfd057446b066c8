// A fault-injecting HTTP proxy in front of the test bed's kube-apiserver (fault matrix T10, X9): the CLI's
// kubeconfig points at http://127.0.0.1:<port> with a bearer token, the proxy forwards every request over TLS
// to the real API server, and a rule may answer a request with an error status or a reset connection, before
// forwarding it (the server never saw it) or after (the server did the write; the client does not know).
import {request as httpsRequest} from 'node:https'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {KubeConfig} from '@kubernetes/client-node'

export type Fault = {status: number; afterForward: boolean} | {reset: true; afterForward: boolean}

export interface SeenRequest {
  method: string
  path: string
  /** The fault injected into it, if any. */
  fault?: Fault
}

export interface FaultProxy {
  url: string
  /** Every request the proxy received, in order. */
  seen: SeenRequest[]
  close(): Promise<void>
}

/** The answer a rule gives: undefined lets the request through untouched. */
export type FaultRule = (request: {method: string; path: string}) => Fault | undefined

function statusBody(status: number): string {
  return JSON.stringify({kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `injected by the test proxy (HTTP ${status})`, code: status})
}

function answer(response: ServerResponse, fault: Fault): void {
  if ('reset' in fault) {
    response.socket?.resetAndDestroy()
    return
  }
  response.writeHead(fault.status, {'content-type': 'application/json'}).end(statusBody(fault.status))
}

function forward(
  upstream: URL,
  ca: string | undefined,
  incoming: IncomingMessage,
  body: Buffer,
): Promise<{status: number; headers: IncomingMessage['headers']; body: Buffer}> {
  return new Promise((resolve, reject) => {
    const headers = {...incoming.headers, host: upstream.host}
    const outgoing = httpsRequest(
      {host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers, ca},
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => resolve({status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks)}))
        response.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Starts the proxy for the admin kubeconfig's server; `rule` decides per request. Watches are not supported (no streaming). */
export async function startFaultProxy(admin: KubeConfig, rule: FaultRule): Promise<FaultProxy> {
  const cluster = admin.getCurrentCluster()
  if (!cluster) throw new Error('the test kubeconfig has no current cluster')
  const upstream = new URL(cluster.server)
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : undefined
  const seen: SeenRequest[] = []
  const server: Server = createServer((incoming, response) => {
    const method = incoming.method ?? 'GET'
    const path = incoming.url ?? '/'
    const fault = rule({method, path})
    seen.push(fault ? {method, path, fault} : {method, path})
    void (async () => {
      const body = await readBody(incoming)
      if (fault && !fault.afterForward) return answer(response, fault)
      const upstreamAnswer = await forward(upstream, ca, incoming, body)
      if (fault) return answer(response, fault)
      const headers = {...upstreamAnswer.headers}
      delete headers['transfer-encoding']
      delete headers.connection
      response.writeHead(upstreamAnswer.status, {...headers, 'content-length': String(upstreamAnswer.body.length)}).end(upstreamAnswer.body)
    })().catch(() => response.socket?.resetAndDestroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A rule that injects `fault` into the first `times` requests matching `match`, then lets everything through. */
export function firstMatching(match: (request: {method: string; path: string}) => boolean, fault: Fault, times = 1): FaultRule {
  let left = times
  return (request) => {
    if (left <= 0 || !match(request)) return undefined
    left -= 1
    return fault
  }
}
