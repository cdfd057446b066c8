import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import type {UrlProber} from '../../src/core/ports.js'

/** What a contract run needs: the prober, and URLs that answer as asked. */
export interface UrlProberHandle {
  prober: UrlProber
  /** A URL that answers with `status` (and a Location), or never answers. */
  serve(answer: {status: number; location?: string} | {hang: true}): Promise<string>
  /** A URL on which nothing listens. */
  closed(): Promise<string>
  close(): Promise<void>
}

/** One contract for the UrlProber port: run on the real adapter (local HTTP servers) and on the fake. */
export function urlProberContract(name: string, setup: () => Promise<UrlProberHandle>): void {
  describe(`UrlProber contract: ${name}`, () => {
    let handle: UrlProberHandle
    before(async () => {
      handle = await setup()
    })
    after(async () => {
      await handle.close()
    })

    it('reports the status of a plain http answer, with no TLS and no error', async () => {
      const answer = await handle.prober.probe(await handle.serve({status: 200}), 5000)
      assert.equal(answer.status, 200)
      assert.equal(answer.location, null)
      assert.equal(answer.tls, null)
      assert.equal(answer.error, null)
      assert.ok(answer.latencyMs >= 0)
    })

    it('reports a 500 as a status, not as an error', async () => {
      const answer = await handle.prober.probe(await handle.serve({status: 500}), 5000)
      assert.equal(answer.status, 500)
      assert.equal(answer.error, null)
    })

    it('does not follow a redirect: it returns where it points', async () => {
      const answer = await handle.prober.probe(await handle.serve({status: 302, location: 'https://login.elsewhere.example/sso'}), 5000)
      assert.equal(answer.status, 302)
      assert.equal(answer.location, 'https://login.elsewhere.example/sso')
    })

    it('resolves a relative Location against the URL', async () => {
      const url = await handle.serve({status: 301, location: '/moved'})
      const answer = await handle.prober.probe(url, 5000)
      assert.equal(answer.location, new URL('/moved', url).toString())
    })

    it('gives up on a URL that does not answer within the timeout, without throwing', async () => {
      const answer = await handle.prober.probe(await handle.serve({hang: true}), 300)
      assert.equal(answer.status, null)
      assert.match(answer.error ?? '', /timed out/)
    })

    it('reports a refused connection as an error, without throwing', async () => {
      const answer = await handle.prober.probe(await handle.closed(), 5000)
      assert.equal(answer.status, null)
      assert.ok((answer.error ?? '').length > 0)
    })
  })
}
