#!/usr/bin/env node
// `demo --version` and a lone `demo --help` are answered without loading oclif (scripts and people call
// them often; they must be instant). --version prints what oclif's version flag prints.
const [flag, ...rest] = process.argv.slice(2)
const alone = rest.length === 0

if (alone && (flag === '--version' || flag === '-v')) {
  process.stdout.write(`${await versionLine()}\n`)
} else if (alone && (flag === '--help' || flag === '-h') && (await printPrerenderedHelp())) {
  // done
} else if (await reexecForEmbeddedStore()) {
  // replaced by the same command with --liftoff-only (process.execve does not return)
} else {
  // V8's compile cache (Node >= 22.1) keeps compiled code of our ~400 modules between runs, in the OS temp
  // dir: about 0.1 s off each start of a command that talks to the cluster.
  const {enableCompileCache} = await import('node:module')
  enableCompileCache?.()
  const {guardProcessStreams} = await import('../dist/process-streams.js')
  guardProcessStreams()
  const {execute} = await import('@oclif/core')
  const {normalizeArgv} = await import('../dist/argv.js')
  await execute({dir: import.meta.url, args: normalizeArgv(process.argv.slice(2))})
}

/** <name>/<version> <platform>-<arch> node-<version>, as oclif prints it. */
async function versionLine() {
  const {readFileSync} = await import('node:fs')
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  return `${name}/${version} ${process.platform}-${process.arch} node-${process.version}`
}

/**
 * The root help is static: `npm run build` renders it once with oclif (80 columns) into dist/help.txt.
 * Its VERSION line is the builder's, so it is replaced with this machine's. False when there is no file.
 */
async function printPrerenderedHelp() {
  const {existsSync, readFileSync} = await import('node:fs')
  const file = new URL('../dist/help.txt', import.meta.url)
  if (!existsSync(file)) return false
  const text = readFileSync(file, 'utf8')
  if (text.trim() === '') return false
  process.stdout.write(text.replace(/^VERSION\n {2}.*$/m, `VERSION\n  ${await versionLine()}`))
  return true
}

/**
 * The embedded state store is PostgreSQL compiled to WebAssembly (PGlite). By default V8 also compiles its
 * hot functions with the optimizing compiler (TurboFan), which costs a short command like `demo list` about
 * 0.5 s of CPU and ~400 MiB of peak memory for code it runs once; the baseline compiler alone (`--liftoff-only`)
 * is enough. V8 freezes its flags once started (Node 24: v8.setFlagsFromString('--liftoff-only') has no effect),
 * and the flag is not allowed in NODE_OPTIONS, so when the command will use the embedded store (no state
 * database URL in the environment, the only place it can come from) the process replaces itself with the same
 * command plus the flag: same pid, stdio, terminal and signals, ~40 ms. The shared-Postgres path is untouched.
 * Node without process.execve (before 22.15, Windows) runs on without the flag: slower, same results.
 */
async function reexecForEmbeddedStore() {
  if (process.execArgv.includes('--liftoff-only') || typeof process.execve !== 'function') return false
  const {stateDatabaseUrl} = await import('../dist/state-url.js')
  if (stateDatabaseUrl(process.env)) return false
  const {fileURLToPath} = await import('node:url')
  const args = [process.execPath, '--liftoff-only', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)]
  process.execve(process.execPath, args, process.env)
  return true
}
