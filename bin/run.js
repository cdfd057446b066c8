#!/usr/bin/env node
import {unsupportedNode} from './node-version.js'

const refusal = unsupportedNode(process.versions.node)
if (refusal) {
  process.stderr.write(refusal)
  process.exit(1)
}
// Checked just now; oclif's check would load semver for it on every start.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'

// `demo --version` and a lone `demo --help` are answered without loading oclif (scripts and people call
// them often; they must be instant). --version prints what oclif's version flag prints.
const [flag, ...rest] = process.argv.slice(2)
const alone = rest.length === 0

if (alone && (flag === '--version' || flag === '-v')) {
  process.stdout.write(`${await versionLine()}\n`)
} else if (alone && (flag === '--help' || flag === '-h') && (await printPrerenderedHelp())) {
  // done
} else {
  // V8's compile cache (Node >= 22.1) keeps compiled code of our ~400 modules between runs, in the OS temp
  // dir: about 0.1 s off each start of a command that talks to the cluster.
  const {enableCompileCache, registerHooks} = await import('node:module')
  enableCompileCache?.()
  // oclif from one file (dist/vendor/oclif-core.cjs) instead of its ~170 modules, for every importer of it.
  const {useOclifBundle} = await import('../dist/oclif-bundle.js')
  useOclifBundle(registerHooks, new URL('../dist/vendor/oclif-core.cjs', import.meta.url))
  const {guardProcessStreams} = await import('../dist/process-streams.js')
  guardProcessStreams()
  const {normalizeArgv} = await import('../dist/argv.js')
  const args = normalizeArgv(process.argv.slice(2))
  // A command that uses the state store starts opening it now (the Postgres connection, or the embedded store's
  // server), so that happens while oclif loads.
  await (await import('../dist/store-prestart.js')).prestartStore(args, process.env)
  const {Config, execute, handle} = await import('@oclif/core')
  const loadOptions = (await ownCommandOptions(args[0])) ?? import.meta.url
  let config
  try {
    config = await withCodeUnitCompare(() => Config.load(loadOptions))
  } catch (error) {
    // A configuration that does not load (a broken install) is reported as execute would have: oclif's handler.
    await handle(error instanceof Error ? error : new Error(String(error)))
  }
  if (config) await execute({args, loadOptions: config})
}

/**
 * Runs `load` with String.prototype.localeCompare comparing by code unit, then puts it back. oclif sorts each
 * plugin's command ids with localeCompare while it loads its configuration, and the first localeCompare of a
 * process sets up ICU's collator: ~7–12 ms of CPU of every command (--cpu-prof of a create). Command ids are
 * lowercase ASCII, which both comparisons order alike; our own code never uses localeCompare (src/core/order.ts).
 */
async function withCodeUnitCompare(load) {
  const localeCompare = String.prototype.localeCompare
  String.prototype.localeCompare = function (that) {
    const self = String(this)
    return self < that ? -1 : self > that ? 1 : 0
  }
  try {
    return await load()
  } finally {
    String.prototype.localeCompare = localeCompare
  }
}

/**
 * A command of our own runs without oclif's two core plugins: loading them (their package.json, manifests and
 * dependency matching) was ~17 ms of every start (`demo get --json`, 8 alternating runs), and neither serves such
 * a command (plugin-help only adds `demo help`, plugin-autocomplete only `demo autocomplete`; a command's --help is
 * oclif core's own). `help`, `autocomplete`, a flag first, a typo (the not-found hook suggests from every command)
 * or an alias: the full configuration. Undefined: oclif loads it from package.json as usual.
 */
async function ownCommandOptions(first) {
  if (first === undefined || !/^[a-z][a-z-]*$/.test(first)) return undefined
  const {existsSync, readFileSync} = await import('node:fs')
  const commands = new URL('../dist/commands/', import.meta.url)
  if (!existsSync(new URL(`${first}.js`, commands)) && !existsSync(new URL(`${first}/index.js`, commands))) return undefined
  const {fileURLToPath} = await import('node:url')
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  return {root: fileURLToPath(new URL('..', import.meta.url)), pjson: {...pjson, oclif: {...pjson.oclif, plugins: []}}}
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
