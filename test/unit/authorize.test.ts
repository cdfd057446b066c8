import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {assertMayChange, authorizeCaller, authorizeChange, type AuthorizationPolicy} from '../../src/core/authorize.js'
import {PermissionError} from '../../src/core/errors.js'
import {FakeCluster} from '../fakes/fake-cluster.js'

const ALICE_SA = 'system:serviceaccount:team:alice'
const BOB_SA = 'system:serviceaccount:team:bob'
const CI_SA = 'system:serviceaccount:ci:deployer'
const POLICY: AuthorizationPolicy = {admins: ['root@example.com', 'system:serviceaccount:ops:root'], trustedIdentities: [CI_SA]}

const recorded = {id: 'k3x9a2bq', createdBy: 'alice@example.com', authenticatedAs: ALICE_SA}
const older = {id: 'k3x9a2bq', createdBy: 'alice@example.com', authenticatedAs: null}

describe('authorizeChange', () => {
  describe('a demo that records who the cluster authenticated its creator as', () => {
    it('allows the same authenticated identity, whatever name it declares', () => {
      assert.deepEqual(authorizeChange(recorded, {declared: 'someone@else', authenticated: ALICE_SA}, POLICY), {allowed: true, as: 'owner'})
    })
    it('refuses another authenticated identity that declares the owner’s name', () => {
      const decision = authorizeChange(recorded, {declared: 'alice@example.com', authenticated: BOB_SA}, POLICY)
      assert.equal(decision.allowed, false)
      assert.match(
        decision.allowed ? '' : decision.reason,
        /authenticated by the cluster as "system:serviceaccount:team:alice", and you are authenticated as "system:serviceaccount:team:bob"/,
      )
    })
    it('refuses a declared admin name, and allows an authenticated admin and a trusted identity', () => {
      assert.equal(authorizeChange(recorded, {declared: 'root@example.com', authenticated: BOB_SA}, POLICY).allowed, false)
      assert.deepEqual(authorizeChange(recorded, {declared: 'x', authenticated: 'system:serviceaccount:ops:root'}, POLICY), {
        allowed: true,
        as: 'admin',
      })
      assert.deepEqual(authorizeChange(recorded, {declared: 'x', authenticated: CI_SA}, POLICY), {allowed: true, as: 'trusted'})
    })
    it('refuses a caller the cluster cannot identify, even with the owner’s declared name', () => {
      const decision = authorizeChange(recorded, {declared: 'alice@example.com', authenticated: null}, POLICY)
      assert.equal(decision.allowed, false)
      assert.match(decision.allowed ? '' : decision.reason, /the cluster cannot tell who you are/)
    })
  })

  describe('a demo without one (older rows, clusters without SelfSubjectReview): today’s rule', () => {
    it('allows the declared owner and a declared admin, refuses anyone else', () => {
      assert.deepEqual(authorizeChange(older, {declared: 'alice@example.com', authenticated: null}, POLICY), {allowed: true, as: 'owner'})
      assert.deepEqual(authorizeChange(older, {declared: 'root@example.com', authenticated: null}, POLICY), {allowed: true, as: 'admin'})
      assert.equal(authorizeChange(older, {declared: 'bob@example.com', authenticated: BOB_SA}, POLICY).allowed, false)
    })
    it('also allows a trusted authenticated identity (gc, CI)', () => {
      assert.deepEqual(authorizeChange(older, {declared: 'gc', authenticated: CI_SA}, POLICY), {allowed: true, as: 'trusted'})
    })
  })
})

describe('assertMayChange', () => {
  it('throws a PermissionError naming the verb, the demo, both identities, and how to be allowed', () => {
    assert.throws(
      () => assertMayChange(recorded, {declared: 'alice@example.com', authenticated: BOB_SA}, POLICY, 'destroy'),
      (error: unknown) =>
        error instanceof PermissionError &&
        /^Cannot destroy demo "k3x9a2bq": it was created by alice@example.com, authenticated by the cluster as/.test(error.message) &&
        /trustedIdentities/.test(error.hint ?? '') &&
        /kubectl auth whoami/.test(error.hint ?? ''),
    )
  })
})

describe('authorizeCaller', () => {
  it('asks the cluster nothing when the declared owner of an older row decides', async () => {
    const cluster = new FakeCluster()
    assert.equal(await authorizeCaller(older, {...POLICY, actor: 'alice@example.com', verb: 'extend'}, async () => cluster), undefined)
    assert.deepEqual(cluster.calls, [])
  })
  it('asks the cluster who the caller is for a row that records an identity, and returns the connected cluster', async () => {
    const cluster = new FakeCluster()
    cluster.user = {username: ALICE_SA}
    assert.equal(await authorizeCaller(recorded, {...POLICY, actor: 'anyone', verb: 'extend'}, async () => cluster), cluster)
    cluster.user = {unavailable: 'the cluster does not serve SelfSubjectReview'}
    await assert.rejects(
      authorizeCaller(recorded, {...POLICY, actor: 'alice@example.com', verb: 'extend'}, async () => cluster),
      PermissionError,
    )
  })
  it('refuses an older row without connecting when no trusted identity is configured', async () => {
    let connected = false
    const connect = async (): Promise<FakeCluster> => {
      connected = true
      return new FakeCluster()
    }
    await assert.rejects(
      authorizeCaller(older, {admins: [], trustedIdentities: [], actor: 'bob@example.com', verb: 'destroy'}, connect),
      PermissionError,
    )
    assert.equal(connected, false)
  })
})
