import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {KubeConfig} from '@kubernetes/client-node'
import {dump} from 'js-yaml'
import {loadKubeConfig} from '../../src/adapters/kubernetes/kubeconfig.js'
import {ClusterError, UsageError} from '../../src/core/errors.js'
import {tempDir} from '../support/databases.js'

function aKubeconfig(options: {currentContext?: string; contexts?: string[]} = {}): string {
  const contexts = options.contexts ?? ['dev', 'prod']
  const file = join(tempDir('demo-kubeconfig-'), 'config')
  writeFileSync(
    file,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'c', cluster: {server: 'https://127.0.0.1:6443'}}],
      users: [{name: 'u', user: {token: 't'}}],
      contexts: contexts.map((name) => ({name, context: {cluster: 'c', user: 'u'}})),
      ...(options.currentContext ? {'current-context': options.currentContext} : {}),
    }),
  )
  return file
}

function refusal(load: () => unknown): UsageError | ClusterError {
  try {
    load()
  } catch (error) {
    assert.ok(error instanceof UsageError || error instanceof ClusterError, String(error))
    return error
  }
  assert.fail('expected a refusal')
}

describe('loadKubeConfig', () => {
  it('names the file from $KUBECONFIG that does not exist, and says where it came from', () => {
    const error = refusal(() => loadKubeConfig(new KubeConfig(), {env: {KUBECONFIG: '/nonexistent/kc', HOME: tempDir()}}))
    assert.ok(error instanceof UsageError)
    assert.equal(error.message, 'Cannot read the kubeconfig /nonexistent/kc (from $KUBECONFIG): no such file.')
    assert.match(error.hint ?? '', /--kubeconfig or KUBECONFIG/)
  })

  it('a kubeconfig without current-context names the file, lists its contexts and hints --context', () => {
    const file = aKubeconfig()
    const error = refusal(() => loadKubeConfig(new KubeConfig(), {kubeconfig: file, env: {}}))
    assert.ok(error instanceof UsageError)
    assert.equal(error.message, `The kubeconfig ${file} has no current-context; its contexts: dev, prod.`)
    assert.match(error.hint ?? '', /--context <name>/)
  })

  it('an unknown --context lists the contexts of the file', () => {
    const file = aKubeconfig({currentContext: 'dev'})
    const error = refusal(() => loadKubeConfig(new KubeConfig(), {kubeconfig: file, context: 'staging', env: {}}))
    assert.equal(error.message, 'The kubeconfig has no context "staging".')
    assert.equal(error.hint, `Contexts in ${file}: dev, prod.`)
  })

  it('nothing at all (no flag, no KUBECONFIG, no ~/.kube/config, not in a pod) says so', () => {
    const error = refusal(() => loadKubeConfig(new KubeConfig(), {env: {HOME: tempDir()}}))
    assert.ok(error instanceof ClusterError)
    assert.match(
      error.message,
      /^No Kubernetes cluster is configured: no --kubeconfig, no KUBECONFIG, no ~\/\.kube\/config, and not running in a pod\.$/,
    )
  })

  it('reads ~/.kube/config when neither --kubeconfig nor KUBECONFIG is given, with its current context or the one asked for', () => {
    const home = tempDir()
    mkdirSync(join(home, '.kube'))
    copyFileSync(aKubeconfig({currentContext: 'dev'}), join(home, '.kube', 'config'))
    assert.equal(loadKubeConfig(new KubeConfig(), {env: {HOME: home}}).getCurrentContext(), 'dev')
    assert.equal(loadKubeConfig(new KubeConfig(), {context: 'prod', env: {HOME: home}}).getCurrentContext(), 'prod')
  })
})
