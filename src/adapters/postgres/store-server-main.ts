import {logToStderr, serveEmbedded} from './store-server.js'

/*
 * Entry point of the embedded store's server, started by store-client.ts as
 * `node --liftoff-only store-server-main.js <dataDir> <key> <idleMs> [<idleInTransactionMs>]`, detached, stderr to
 * `<dataDir>.server.log`.
 * --liftoff-only: V8's optimizing compiler would spend ~0.5 s of CPU and ~400 MiB on PGlite's WebAssembly for
 * code that runs once at start (docs/benchmarks.md, "The embedded store").
 */
const [dataDir, key, idleMs, idleInTransactionMs] = process.argv.slice(2)
if (!dataDir || !key || !idleMs) {
  process.stderr.write('usage: store-server-main <dataDir> <key> <idleMs> [<idleInTransactionMs>]\n')
  process.exit(2)
}
try {
  await serveEmbedded(dataDir, {key, idleMs: Number(idleMs), idleInTransactionMs: idleInTransactionMs ? Number(idleInTransactionMs) : undefined})
} catch (error) {
  // The stack, then one line the starting command quotes (store-client.ts, lastLine).
  if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  logToStderr(`failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
process.exit()
