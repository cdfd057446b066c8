import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'
// @ts-expect-error bin/ is plain JavaScript without declarations
import {MINIMUM_NODE, unsupportedNode} from '../../bin/node-version.js'

const REPO_ROOT = join(import.meta.dirname, '../..')
const check = unsupportedNode as (version: string) => string | undefined

describe('the Node.js version check of bin/run.js', () => {
  it('refuses versions below the minimum, naming both and the fix', () => {
    for (const version of ['20.20.2', '22.11.0', '18.0.0']) {
      const refusal = check(version)
      assert.ok(refusal, version)
      assert.match(refusal, new RegExp(`needs Node\\.js ${MINIMUM_NODE as string} or newer; this is Node\\.js ${version.replaceAll('.', '\\.')}`))
      assert.match(refusal, /Hint: install a current Node\.js/)
    }
  })

  it('accepts the minimum and newer', () => {
    for (const version of ['22.12.0', '22.20.1', '23.0.0', '24.21.0', '30.1.0']) assert.equal(check(version), undefined, version)
  })

  it('has the minimum of package.json "engines"', () => {
    const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {engines: {node: string}}).engines.node
    assert.equal(`>=${(MINIMUM_NODE as string).replace(/\.0$/, '')}`, engines)
  })

  it('stops bin/run.js on the Node.js of the PATH when that one is too old', async (t) => {
    // The machine's own Node (/usr/bin/node, 20 here) rather than the one npm puts first on the PATH.
    const system = '/usr/bin/node'
    const version = await promisify(execFile)(system, ['-p', 'process.versions.node']).then(
      (r) => r.stdout.trim(),
      () => undefined,
    )
    if (version === undefined || check(version) === undefined) {
      t.skip(`no Node.js older than ${MINIMUM_NODE as string} at ${system}`)
      return
    }
    const failed = await promisify(execFile)(system, [join(REPO_ROOT, 'bin/run.js'), 'list']).then(
      () => undefined,
      (error: {code: number; stderr: string; stdout: string}) => error,
    )
    assert.ok(failed, 'exits non-zero')
    assert.equal(failed.code, 1)
    assert.equal(failed.stdout, '')
    assert.equal(failed.stderr, check(version))
  })
})
