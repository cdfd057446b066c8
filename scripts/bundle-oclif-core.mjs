// Bundles @oclif/core (with its ~35 small dependencies: ansis, debug, ejs, minimatch, wsl-utils, ...) into one file,
// dist/vendor/oclif-core.cjs. Every command loads oclif first; from the package that is ~170 CommonJS and ES modules,
// each found, read and wrapped by Node's loaders: ~35–70 ms of CPU of every `demo create` (docs/decisions.md,
// "oclif as one file"). bin/run.js resolves the specifier '@oclif/core' to this file for every importer (our
// commands, hooks and oclif's plugins alike), so there is still one oclif in the process (src/oclif-bundle.ts).
import {createRequire} from 'node:module'
import {build} from 'esbuild'

const require = createRequire(import.meta.url)
const OUT = 'dist/vendor/oclif-core.cjs'

await build({
  entryPoints: [require.resolve('@oclif/core')],
  bundle: true,
  // oclif is CommonJS; so is its bundle. Its lazy import()s of bundled packages (wsl-utils on every start) become
  // lazy requires inside the file.
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  // Not minifySyntax: Node finds the named exports of a CommonJS module by reading its source
  // (`Object.defineProperty(exports, "Config", {enumerable: true, get: ...})`), and minified syntax hides them.
  minifyWhitespace: true,
  minifyIdentifiers: true,
  legalComments: 'linked',
  outfile: OUT,
  // oclif requires typescript only to read a plugin's tsconfig in development (ts-node/tsx plugins), and it is not a
  // dependency of ours at run time: it stays a require() that fails, or succeeds, as from the package.
  external: ['typescript'],
  logLevel: 'warning',
})

// An ES module import of the bundle (what our commands and bin/run.js do) must see every name the package exports.
const bundle = await import(new URL(`../${OUT}`, import.meta.url).href)
const pkg = await import('@oclif/core')
const missing = Object.keys(pkg).filter((name) => name !== 'default' && name !== 'module.exports' && bundle[name] === undefined)
if (missing.length > 0) throw new Error(`${OUT} does not export ${missing.join(', ')} to ES modules`)
