#!/usr/bin/env node
// `demo --version` is answered without loading oclif (CI scripts call it often; it must be instant).
// Same output as oclif's own version flag: <name>/<version> <platform>-<arch> node-<version>.
const [flag, ...rest] = process.argv.slice(2)
if ((flag === '--version' || flag === '-v') && rest.length === 0) {
  const {readFileSync} = await import('node:fs')
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // V8's compile cache (Node >= 22.1) keeps compiled code of our ~400 modules between runs, in the OS temp
  // dir: about 0.1 s off each start of a command that talks to the cluster.
  const {enableCompileCache} = await import('node:module')
  enableCompileCache?.()
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
