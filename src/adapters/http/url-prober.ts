import http from 'node:http'
import https from 'node:https'
import type {TLSSocket} from 'node:tls'
import type {UrlProber, UrlProbeResult} from '../../core/ports.js'
import {formatDuration} from '../../core/duration.js'

/**
 * GETs with node:http/https rather than fetch: fetch hides the peer certificate, and health reports its
 * validity and expiry. The certificate is not enforced for the request (rejectUnauthorized: false) so that
 * an expired one is reported as such, with the status the server would have given; nothing is sent but a GET
 * without credentials, and the body is discarded. Redirects are never followed here (core decides).
 */
export class HttpUrlProber implements UrlProber {
  constructor(private readonly options: {ca?: string | Buffer | undefined} = {}) {}

  probe(url: string, timeoutMs: number): Promise<UrlProbeResult> {
    const started = performance.now()
    const target = new URL(url)
    const isHttps = target.protocol === 'https:'
    return new Promise((resolve) => {
      let tls: UrlProbeResult['tls'] = null
      const settle = (answer: Omit<UrlProbeResult, 'latencyMs' | 'tls'>): void => {
        resolve({...answer, tls, latencyMs: performance.now() - started})
      }
      const onResponse = (response: http.IncomingMessage): void => {
        if (isHttps) tls = certificateOf(response.socket as TLSSocket)
        const status = response.statusCode ?? null
        const location =
          status !== null && status >= 300 && status < 400 && response.headers.location ? new URL(response.headers.location, url).toString() : null
        response.resume()
        settle({status, location, error: null})
      }
      const request = isHttps
        ? https.request(
            target,
            {method: 'GET', rejectUnauthorized: false, ca: this.options.ca, agent: false, headers: {'user-agent': 'demo-cli health'}},
            onResponse,
          )
        : http.request(target, {method: 'GET', agent: false, headers: {'user-agent': 'demo-cli health'}}, onResponse)
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`timed out after ${formatDuration(timeoutMs)}`)))
      request.on('error', (error) => settle({status: null, location: null, error: error.message}))
      request.end()
    })
  }
}

function certificateOf(socket: TLSSocket): UrlProbeResult['tls'] {
  const certificate = socket.getPeerCertificate()
  const validTo = certificate.valid_to ? new Date(certificate.valid_to) : null
  const error = socket.authorizationError ? String(socket.authorizationError) : null
  return {valid: socket.authorized, error, validTo: validTo && !Number.isNaN(validTo.getTime()) ? validTo : null}
}
