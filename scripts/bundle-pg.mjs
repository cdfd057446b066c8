// Bundles pg (with pg-pool, pg-protocol, pg-types, pg-connection-string and their small dependencies) into one
// file, dist/vendor/pg.cjs: every command opens the state store with it, and one file loads in ~10 ms instead of
// the packages' ~40 modules in ~22 ms (each found and read by Node's resolver). The adapters import the bundle
// when it exists (the built CLI) and the package otherwise (tests that run the sources): the same code either way.
import {createRequire} from 'node:module'
import {build} from 'esbuild'

const require = createRequire(import.meta.url)
const OUT = 'dist/vendor/pg.cjs'

await build({
  entryPoints: [require.resolve('pg')],
  bundle: true,
  // pg is CommonJS; a CommonJS bundle keeps its lazy require() of Node built-ins and its `native` getter as they are.
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  minify: true,
  legalComments: 'linked',
  outfile: OUT,
  // Optional packages pg requires only when asked (pg.native) or on Cloudflare Workers: they stay require()s that
  // fail or succeed at run time exactly as from the package.
  external: ['pg-native', 'pg-cloudflare'],
  logLevel: 'warning',
})

// What the adapters use must be there.
const bundled = require(new URL(`../${OUT}`, import.meta.url).pathname)
for (const name of ['Pool', 'Client']) if (typeof bundled[name] !== 'function') throw new Error(`${OUT} does not export pg.${name}`)
if (bundled.native !== null) throw new Error(`${OUT}: pg.native should be null without pg-native installed`)
