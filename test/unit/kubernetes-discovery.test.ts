import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Discovery, KubernetesApiError, type RawRequest} from '../../src/adapters/kubernetes/rest.js'

function recordingSend(lists: Record<string, unknown>): {send: (r: RawRequest) => Promise<unknown>; paths: string[]} {
  const paths: string[] = []
  return {
    paths,
    send: async (request) => {
      paths.push(request.path)
      const list = lists[request.path]
      if (list === undefined) throw new KubernetesApiError(404, '', {})
      return list
    },
  }
}

describe('Discovery', () => {
  it('answers Kubernetes’ own kinds without a request', async () => {
    const {send, paths} = recordingSend({})
    const discovery = new Discovery(send)
    assert.deepEqual(await discovery.resource('apps/v1', 'Deployment'), {kind: 'Deployment', name: 'deployments', namespaced: true})
    assert.deepEqual(await discovery.resource('v1', 'Namespace'), {kind: 'Namespace', name: 'namespaces', namespaced: false})
    assert.deepEqual(await discovery.resource('networking.k8s.io/v1', 'Ingress'), {kind: 'Ingress', name: 'ingresses', namespaced: true})
    assert.deepEqual(paths, [])
  })

  it('asks the cluster once per group version for any other kind, and finds no kind in a group version it does not serve', async () => {
    const widgets = {
      resources: [
        {name: 'widgets', kind: 'Widget', namespaced: true},
        {name: 'widgets/status', kind: 'Widget', namespaced: true},
      ],
    }
    const {send, paths} = recordingSend({'/apis/example.com/v1': widgets})
    const discovery = new Discovery(send)
    assert.deepEqual(await discovery.resource('example.com/v1', 'Widget'), {name: 'widgets', kind: 'Widget', namespaced: true})
    assert.deepEqual(await discovery.resource('example.com/v1', 'Widget'), {name: 'widgets', kind: 'Widget', namespaced: true})
    assert.equal(await discovery.resource('gone.example.com/v1', 'Thing'), undefined)
    // A kind the built-in table does not name in a built-in group version (a newer release's) is asked for too.
    assert.equal(await discovery.resource('apps/v1', 'Frobnicator'), undefined)
    assert.deepEqual(paths, ['/apis/example.com/v1', '/apis/gone.example.com/v1', '/apis/apps/v1'])
  })

  it('is not fooled by a group version named like a property of every object', async () => {
    const {send} = recordingSend({})
    assert.equal(await new Discovery(send).resource('constructor', 'Thing'), undefined)
  })
})
