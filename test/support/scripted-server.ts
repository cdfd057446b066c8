import {createServer, type RequestListener, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before} from 'node:test'

/**
 * A node:http server on 127.0.0.1 answering with `handler`, for the tests of one file (a scripted API server): it
 * listens before them and is closed after them, its keep-alive connections too. `port` is known once they run.
 */
export function serveDuringTests(handler: RequestListener): {readonly server: Server; readonly port: number} {
  const server = createServer(handler)
  let port = 0
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })
  return {
    server,
    get port() {
      return port
    },
  }
}

/** A port on 127.0.0.1 where nothing listens (it did a moment ago): a connection to it is refused. */
export async function refusedPort(): Promise<number> {
  const gone = createServer()
  await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve))
  const port = (gone.address() as AddressInfo).port
  await new Promise((resolve) => gone.close(resolve))
  return port
}
