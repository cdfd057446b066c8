import {createHash} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** Unix socket paths are limited to 104–108 bytes (sun_path); longer ones are hashed into the temp directory. */
const MAX_SOCKET_PATH = 100

/**
 * Where the embedded store's server (store-server.ts) listens for `dataDir`: `<dataDir>.sock` next to the data
 * directory (in the user's own data directory, ~/.local/share/demo/state.sock), or, when that path is too long
 * for a socket, a name derived from it in the temp directory (the client then checks the socket is the user's
 * own before it talks to it, store-client.ts). On Windows, a named pipe.
 */
export function socketPathFor(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  const digest = createHash('sha256').update(dataDir).digest('hex').slice(0, 24)
  if (platform === 'win32') return `\\\\.\\pipe\\demo-store-${digest}`
  const beside = `${dataDir}.sock`
  return Buffer.byteLength(beside) <= MAX_SOCKET_PATH ? beside : join(tmpdir(), `demo-store-${digest}.sock`)
}
