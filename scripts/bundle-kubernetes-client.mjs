// Bundles @kubernetes/client-node into one file, dist/vendor/kubernetes-client.js. Loading the package's
// ~1,000 ES modules costs `demo create` about a second of CPU; the bundle loads in about half of that.
// The Kubernetes adapter imports the bundle when it exists (the built CLI) and the package otherwise (tests
// that run the sources). Same code either way: the bundle is the package's own code for the names it exports.
import {build} from 'esbuild'

// The one list of names the adapter uses (src/adapters/kubernetes/kubernetes-client-names.ts, its
// KubernetesClient type is made of it), as tsc compiled it a moment ago in `npm run build`.
const {KUBERNETES_CLIENT_NAMES} = await import(new URL('../dist/adapters/kubernetes/kubernetes-client-names.js', import.meta.url).href)

await build({
  // Only those names: esbuild then leaves out watch, exec, port-forward, cp and their dependencies (half the size).
  stdin: {
    contents: `export {${KUBERNETES_CLIENT_NAMES.join(', ')}} from '@kubernetes/client-node'`,
    resolveDir: process.cwd(),
    sourcefile: 'kubernetes-client.js',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  legalComments: 'linked',
  outfile: 'dist/vendor/kubernetes-client.js',
  // Some dependencies are CommonJS and require() Node built-ins; an ES module bundle needs a require for that.
  banner: {js: "import {createRequire as __demoCreateRequire} from 'node:module'; const require = __demoCreateRequire(import.meta.url);"},
  logLevel: 'warning',
})
