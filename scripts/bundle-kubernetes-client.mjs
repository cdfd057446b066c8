// Bundles the part of @kubernetes/client-node the adapter uses (the kubeconfig and authentication) into one file,
// dist/vendor/kubernetes-client.js: 0.21 MB instead of the package's ~1,000 ES modules.
// The Kubernetes adapter imports the bundle when it exists (the built CLI) and the package otherwise (tests
// that run the sources). Same code either way: the bundle is the package's own code for the names it exports.
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {build} from 'esbuild'

// The one list of names the adapter uses (src/adapters/kubernetes/kubernetes-client-names.ts, its
// KubernetesClient type is made of it), as tsc compiled it a moment ago in `npm run build`.
const {KUBERNETES_CLIENT_NAMES} = await import(new URL('../dist/adapters/kubernetes/kubernetes-client-names.js', import.meta.url).href)

// The bundle's ES modules import node:http and node:https. An ES module import of a built-in reads every export
// of it, and node:http's WebSocket, CloseEvent and MessageEvent are getters that load Node's copy of undici
// (~40 ms of every command that connects to a cluster). So these two are taken through require, which reads
// only the names the bundle uses; a name it uses that is not listed here fails this build.
const LAZY_BUILTINS = {
  http: [
    'Agent',
    'ClientRequest',
    'IncomingMessage',
    'OutgoingMessage',
    'STATUS_CODES',
    'METHODS',
    'Server',
    'ServerResponse',
    'createServer',
    'get',
    'request',
    'validateHeaderName',
    'validateHeaderValue',
  ],
  https: ['Agent', 'Server', 'createServer', 'get', 'request'],
}
const requireBuiltins = {
  name: 'require-builtins',
  setup(b) {
    // Only ES module imports; a require() of them stays a require().
    b.onResolve({filter: /^(node:)?https?$/}, (args) =>
      args.kind === 'import-statement' ? {path: args.path.replace(/^node:/, ''), namespace: 'require-builtin'} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'require-builtin'}, (args) => ({
      contents: `const m = require('node:${args.path}'); export default m; export const {${LAZY_BUILTINS[args.path].join(', ')}} = m;`,
      loader: 'js',
    }))
  },
}

// The adapter uses the client only to load the kubeconfig and authenticate (transport.ts sends with node:https), so
// its undici (about half the bundle) is loaded only if the client itself ever constructs an Agent: from the
// client's own location, where npm put it for the client.
const UNDICI_NAMES = ['Agent', 'ProxyAgent']
const lazyUndici = {
  name: 'lazy-undici',
  setup(b) {
    b.onResolve({filter: /^undici$/}, () => ({path: 'undici', namespace: 'lazy-undici'}))
    b.onLoad({filter: /.*/, namespace: 'lazy-undici'}, () => ({
      contents: [
        "import {createRequire} from 'node:module'",
        'let undici',
        "const load = () => (undici ??= createRequire(createRequire(import.meta.url).resolve('@kubernetes/client-node/package.json'))('undici'))",
        ...UNDICI_NAMES.map((name) => `export class ${name} { constructor(...args) { return new (load().${name})(...args) } }`),
        'export function fetch(...args) { return load().fetch(...args) }',
      ].join('\n'),
      loader: 'js',
    }))
  },
}

// The names come from the module that defines them, dist/config.js (KubeConfig), not from the package's index: the
// index re-exports every module of the package, and esbuild keeps those whose top level has effects, such as the
// ~360 KB of generated models behind its serializer. A name that config.js does not define fails this build.
const CLIENT_DIST = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node/package.json')), 'dist')
// config.js itself imports two names from the generated client's index (for makeApiClient, which the adapter never
// calls), which would bring back all the models; it gets them from the two files that define them instead.
const GENERATED_NAMES = {createConfiguration: 'configuration.js', ServerConfiguration: 'servers.js'}
const narrowGenerated = {
  name: 'narrow-generated',
  setup(b) {
    b.onResolve({filter: /^\.\/gen\/index\.js$/}, (args) =>
      args.importer === join(CLIENT_DIST, 'config.js') ? {path: join(CLIENT_DIST, 'gen'), namespace: 'narrow-generated'} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'narrow-generated'}, (args) => ({
      contents: Object.entries(GENERATED_NAMES)
        .map(([name, file]) => `export {${name}} from ${JSON.stringify(join(args.path, file))}`)
        .join('\n'),
      loader: 'js',
      resolveDir: args.path,
    }))
  },
}

await build({
  plugins: [requireBuiltins, lazyUndici, narrowGenerated],
  // Only those names: esbuild then leaves out the generated API classes, watch, exec, port-forward, cp and their dependencies.
  stdin: {
    contents: `export {${KUBERNETES_CLIENT_NAMES.join(', ')}} from ${JSON.stringify(join(CLIENT_DIST, 'config.js'))}`,
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

// The lazy undici must still load when the client asks for it: have the client construct its own dispatcher once.
const {KubeConfig} = await import(new URL('../dist/vendor/kubernetes-client.js', import.meta.url).href)
const probe = new KubeConfig()
probe.loadFromOptions({
  clusters: [{name: 'c', server: 'https://127.0.0.1:1'}],
  users: [{name: 'u'}],
  contexts: [{name: 'x', cluster: 'c', user: 'u'}],
  currentContext: 'x',
})
const dispatcher = probe.createDispatcher(probe.getCurrentCluster(), {rejectUnauthorized: true})
if (typeof dispatcher?.dispatch !== 'function') throw new Error('the bundle could not load undici for the client')
await dispatcher.close()
