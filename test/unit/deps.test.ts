import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'
import {dump} from 'js-yaml'
import {Deps} from '../../src/deps.js'
import {tempDir} from '../support/databases.js'

function aKubeconfigWithTwoContexts(): string {
  const file = join(tempDir('demo-deps-'), 'config')
  writeFileSync(
    file,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {name: 'one', cluster: {server: 'https://127.0.0.1:1'}},
        {name: 'two', cluster: {server: 'https://127.0.0.1:2'}},
      ],
      users: [{name: 'u', user: {token: 't'}}],
      contexts: [
        {name: 'first', context: {cluster: 'one', user: 'u'}},
        {name: 'second', context: {cluster: 'two', user: 'u'}},
      ],
      'current-context': 'first',
    }),
  )
  return file
}

function aDeps(kubeconfig: string): Deps {
  const dir = tempDir()
  return new Deps({
    cwd: dir,
    env: {HOME: dir, KUBECONFIG: kubeconfig},
    io: {stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough()},
    packageRoot: dir,
    dataDir: dir,
  })
}

describe('Deps.cluster', () => {
  it('keeps one connection per kubeconfig context, so a later call for another context never gets the first cluster', async () => {
    const deps = aDeps(aKubeconfigWithTwoContexts())
    const current = await deps.cluster()
    const second = await deps.cluster({defaultContext: 'second'})
    const first = await deps.cluster({defaultContext: 'first'})
    assert.deepEqual([current.contextName(), second.contextName(), first.contextName()], ['first', 'second', 'first'])
    assert.equal(await deps.cluster({defaultContext: 'second'}), second, 'the connection of a context is reused')
    assert.notEqual(second, current)
  })
})
