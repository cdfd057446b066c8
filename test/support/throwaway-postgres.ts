// A PostgreSQL server of a test's own (initdb + pg_ctl from /usr/lib/postgresql/*/bin, in a temp dir, on a free
// port), for tests that stop the server: the machine's shared Postgres is never stopped, other runs use it.
// As root, every command runs as the `postgres` user (runuser), since Postgres refuses to run as root.
import {execFile, execFileSync} from 'node:child_process'
import {chownSync, existsSync, readdirSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {tempDir} from './databases.js'

const run = promisify(execFile)

export interface ThrowawayPostgres {
  /** Superuser URL (trust authentication on 127.0.0.1). */
  url: string
  port: number
  start(): Promise<void>
  /** `pg_ctl stop -m immediate`: the server ends at once, open connections are cut. */
  stopImmediately(): Promise<void>
  /** Stops the server if it runs and removes its directory. */
  remove(): Promise<void>
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  const found = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'pg_ctl')))
  if (!found) throw new Error(`no PostgreSQL server binaries under ${root}`)
  return found
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

function postgresUid(): {uid: number; gid: number} | undefined {
  if (process.getuid?.() !== 0) return undefined
  return {uid: Number(readId('-u')), gid: Number(readId('-g'))}
}

function readId(flag: string): string {
  return execFileSync('id', [flag, 'postgres'], {encoding: 'utf8'}).trim()
}

/** initdb in a fresh temp dir, started on a free port; call remove() in an after hook. */
export async function throwawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBin()
  const dir = tempDir('demo-throwaway-pg-')
  const owner = postgresUid()
  if (owner) chownSync(dir, owner.uid, owner.gid)
  const asOwner = async (command: string, args: string[]): Promise<void> => {
    const [file, argv] = owner ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args]
    await run(file, argv, {cwd: dir, timeout: 120_000})
  }
  const data = join(dir, 'data')
  await asOwner('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'])
  const port = await freePort()
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
  let running = false
  const pg: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await asOwner('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'server.log'), '-o', options])
      running = true
    },
    async stopImmediately() {
      await asOwner('pg_ctl', ['stop', '-w', '-D', data, '-m', 'immediate'])
      running = false
    },
    async remove() {
      if (running) await pg.stopImmediately().catch(() => undefined)
      rmSync(dir, {recursive: true, force: true})
    },
  }
  await pg.start()
  return pg
}
