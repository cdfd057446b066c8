// The UrlProber contract on the real adapter (node:http against servers this test starts) and on the fake, and
// what only the real one can show: a TLS certificate's validity and expiry.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {HttpUrlProber} from '../../src/adapters/http/url-prober.js'
import {FakeUrlProber} from '../fakes/fake-url-prober.js'
import {tempDir} from '../support/databases.js'
import {urlProberContract} from '../contract/url-prober.contract.js'

type Answer = {status: number; location?: string} | {hang: true}

/** One server answering each path as registered; a hanging path keeps the request open until the server closes. */
async function answeringServer(): Promise<{serve: (answer: Answer) => Promise<string>; close: () => Promise<void>}> {
  const answers = new Map<string, Answer>()
  const server = http.createServer((request, response) => {
    const answer = answers.get(request.url ?? '')
    if (!answer) return void response.writeHead(404).end()
    if ('hang' in answer) return
    response.writeHead(answer.status, answer.location ? {location: answer.location} : {}).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  let count = 0
  return {
    serve: async (answer) => {
      const path = `/p${++count}`
      answers.set(path, answer)
      return `http://127.0.0.1:${port}${path}`
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

urlProberContract('HttpUrlProber (node:http, local servers)', async () => {
  const server = await answeringServer()
  return {prober: new HttpUrlProber(), serve: server.serve, closed: async () => `http://127.0.0.1:${await closedPort()}/health`, close: server.close}
})

urlProberContract('FakeUrlProber', async () => {
  const prober = new FakeUrlProber()
  let count = 0
  return {
    prober,
    serve: async (answer) => {
      const url = `http://fake-${++count}.example/health`
      prober.answer(url, answer)
      return url
    },
    closed: async () => 'http://nothing-listens.example/health',
    close: async () => {},
  }
})

/** A self-signed certificate for localhost made with openssl at test time; `expired` makes it end yesterday. */
function selfSigned(dir: string, expired: boolean): {key: string; cert: string} {
  const key = join(dir, 'key.pem')
  const fresh = join(dir, 'fresh.pem')
  const cert = join(dir, expired ? 'expired.pem' : 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      fresh,
      '-subj',
      '/CN=localhost',
      '-days',
      '30',
    ],
    {stdio: 'ignore'},
  )
  if (expired) execFileSync('openssl', ['x509', '-in', fresh, '-signkey', key, '-days', '-1', '-out', cert], {stdio: 'ignore'})
  return {key: readFileSync(key, 'utf8'), cert: readFileSync(expired ? cert : fresh, 'utf8')}
}

describe('HttpUrlProber over https', () => {
  const servers: https.Server[] = []
  const dir = tempDir('demo-tls-')
  const start = async (pair: {key: string; cert: string}): Promise<string> => {
    const server = https.createServer(pair, (_request, response) => response.writeHead(200).end('ok'))
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `https://localhost:${(server.address() as AddressInfo).port}/health`
  }
  let expiredUrl: string
  let trustedUrl: string
  let trustedCert: string
  before(async () => {
    expiredUrl = await start(selfSigned(join(dir), true))
    const fresh = selfSigned(tempDir('demo-tls-fresh-'), false)
    trustedCert = fresh.cert
    trustedUrl = await start(fresh)
  })
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('reports an expired self-signed certificate as invalid, with its expiry, and still the status', async () => {
    const answer = await new HttpUrlProber().probe(expiredUrl, 5000)
    assert.equal(answer.status, 200)
    assert.equal(answer.tls?.valid, false)
    assert.match(answer.tls?.error ?? '', /CERT_HAS_EXPIRED|SELF_SIGNED|self-signed/i)
    assert.ok(answer.tls?.validTo && answer.tls.validTo.getTime() < Date.now() + 60_000)
  })

  it('reports a trusted certificate as valid, with the day it expires', async () => {
    const answer = await new HttpUrlProber({ca: trustedCert}).probe(trustedUrl, 5000)
    assert.equal(answer.status, 200)
    assert.deepEqual({valid: answer.tls?.valid, error: answer.tls?.error}, {valid: true, error: null})
    const days = ((answer.tls?.validTo?.getTime() ?? 0) - Date.now()) / 86_400_000
    assert.ok(days > 28 && days <= 30, `expires in ${days} days`)
  })
})
