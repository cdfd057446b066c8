// The CLI's own surface: version, help, unknown commands. Through the built bin/run.js.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {KUBERNETES_CLIENT_NAMES} from '../../src/adapters/kubernetes/kubernetes-client-names.js'
import {cliSandbox, REPO_ROOT, runDemo, transcript} from '../support/cli.js'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {name: string; version: string}

describe('demo --version and --help', () => {
  it('prints name/version platform-arch node-version, like oclif would, and exits 0', async () => {
    for (const flag of ['--version', '-v']) {
      const result = await runDemo(cliSandbox(), [flag])
      assert.equal(result.code, 0, transcript(result))
      assert.equal(result.stdout, `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
    }
  })

  it('lists every command in --help', async () => {
    const result = await runDemo(cliSandbox(), ['--help'])
    assert.equal(result.code, 0, transcript(result))
    for (const command of ['create', 'destroy', 'list', 'get', 'extend', 'config']) assert.match(result.stdout, new RegExp(`^\\s+${command}\\s`, 'm'))
  })

  it('answers a lone --help from the help rendered at build time, identical to what oclif renders now', async () => {
    const box = cliSandbox()
    const prerendered = await runDemo(box, ['--help'])
    const live = await runDemo(box, ['help'], {COLUMNS: '80'})
    assert.equal(live.code, 0, transcript(live))
    assert.equal(prerendered.stdout, live.stdout)
    assert.match(prerendered.stdout, new RegExp(`^VERSION\n  ${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version.replaceAll('.', '\\.')}$`, 'm'))
  })

  it('refuses an unknown command with exit 2', async () => {
    const result = await runDemo(cliSandbox(), ['launch'])
    assert.equal(result.code, 2, transcript(result))
    assert.match(result.stderr, /launch/)
  })
})

describe('the built Kubernetes client bundle', () => {
  it('exports exactly the client names the adapter uses (the one list in kubernetes-client-names.ts)', async () => {
    const bundle = (await import(pathToFileURL(join(REPO_ROOT, 'dist', 'vendor', 'kubernetes-client.js')).href)) as Record<string, unknown>
    assert.deepEqual(Object.keys(bundle).sort(), [...KUBERNETES_CLIENT_NAMES].sort())
    for (const name of KUBERNETES_CLIENT_NAMES) assert.notEqual(bundle[name], undefined, `${name} is undefined in the bundle`)
  })
})
