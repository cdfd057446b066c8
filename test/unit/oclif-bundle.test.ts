import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import type {registerHooks, ResolveFnOutput, ResolveHookContext} from 'node:module'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {OCLIF_CORE, resolveOclifToBundle, useOclifBundle} from '../../src/oclif-bundle.js'
import {tempDir} from '../support/databases.js'

const CONTEXT: ResolveHookContext = {conditions: ['node', 'import'], importAttributes: {}, parentURL: 'file:///app/dist/commands/create.js'}
const BUNDLE = 'file:///app/dist/vendor/oclif-core.cjs'

/** The next resolver: records what it was asked and answers with a made-up URL. */
function nextResolver(asked: string[]) {
  return (specifier: string): ResolveFnOutput => {
    asked.push(specifier)
    return {url: `file:///resolved/${specifier}`}
  }
}

describe('resolveOclifToBundle', () => {
  it('resolves @oclif/core to the bundle, as CommonJS, without asking the next resolver', () => {
    const asked: string[] = []
    assert.deepEqual(resolveOclifToBundle(BUNDLE)(OCLIF_CORE, CONTEXT, nextResolver(asked)), {url: BUNDLE, format: 'commonjs', shortCircuit: true})
    assert.deepEqual(asked, [])
  })

  it('leaves every other specifier, subpaths of @oclif/core included, to the next resolver', () => {
    const asked: string[] = []
    const hook = resolveOclifToBundle(BUNDLE)
    for (const specifier of ['@oclif/core/ux', '@oclif/plugin-help', 'node:fs', './config.js', '@oclif/corex'])
      assert.deepEqual(hook(specifier, CONTEXT, nextResolver(asked)), {url: `file:///resolved/${specifier}`})
    assert.deepEqual(asked, ['@oclif/core/ux', '@oclif/plugin-help', 'node:fs', './config.js', '@oclif/corex'])
  })
})

describe('useOclifBundle', () => {
  const existing = () => {
    const file = join(tempDir('demo-oclif-bundle-'), 'oclif-core.cjs')
    writeFileSync(file, '')
    return pathToFileURL(file)
  }
  const recording = (calls: unknown[]) => ((options: unknown) => calls.push(options)) as unknown as typeof registerHooks

  it('registers the resolve hook when Node has registerHooks and the bundle exists', () => {
    const calls: unknown[] = []
    const bundle = existing()
    assert.equal(useOclifBundle(recording(calls), bundle), true)
    assert.equal(calls.length, 1)
    const {resolve} = calls[0] as {resolve: ReturnType<typeof resolveOclifToBundle>}
    assert.equal(resolve(OCLIF_CORE, CONTEXT, nextResolver([])).url, bundle.href)
  })

  it('changes nothing without registerHooks (Node before 22.15) or without the bundle (no build)', () => {
    const calls: unknown[] = []
    assert.equal(useOclifBundle(undefined, existing()), false)
    assert.equal(useOclifBundle(recording(calls), pathToFileURL(join(tempDir('demo-oclif-bundle-'), 'missing.cjs'))), false)
    assert.deepEqual(calls, [])
  })
})
