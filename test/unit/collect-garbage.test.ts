import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {planGarbage, type GcPicture, type GcPolicy} from '../../src/core/collect-garbage.js'
import type {Demo} from '../../src/core/demo.js'
import type {OwnedNamespace} from '../../src/core/ports.js'
import {aDemo} from '../fakes/builders.js'

const NOW = new Date('2026-11-25T18:00:00Z')
const HERE = {context: 'ci', clusterId: 'uid-here'}
const POLICY: GcPolicy = {creatingTimeoutMs: 15 * 60_000, orphanGraceMs: 10 * 60_000, maxDeletions: 20}
const LONG_AGO = new Date('2026-11-25T12:00:00Z')

function aRow(overrides: Partial<Demo> = {}): Demo {
  return aDemo({status: 'ready', clusterId: HERE.clusterId, kubeContext: 'ci', createdAt: LONG_AGO, ...overrides})
}

function nsOf(demo: Pick<Demo, 'id' | 'namespace'>, overrides: Partial<OwnedNamespace> = {}): OwnedNamespace {
  return {name: demo.namespace, demoId: demo.id, terminating: false, expiresAt: null, createdAt: LONG_AGO, ...overrides}
}

function picture(overrides: Partial<GcPicture>): GcPicture {
  return {now: NOW, cluster: HERE, rows: [], otherRows: [], namespaces: [], databases: [], ...overrides}
}

function kinds(plan: ReturnType<typeof planGarbage>): string[] {
  return plan.actions.map((a) => `${a.kind} ${a.demoId}`)
}

const EXPIRED = new Date('2026-11-25T17:00:00Z')
const LATER = new Date('2026-11-25T20:00:00Z')

describe('planGarbage', () => {
  it('destroys an expired demo with auto_cleanup, and says when it expired', () => {
    const demo = aRow({expiresAt: EXPIRED})
    const plan = planGarbage(picture({rows: [demo], namespaces: [nsOf(demo)]}), POLICY)
    assert.deepEqual(kinds(plan), [`destroy ${demo.id}`])
    assert.match(plan.actions[0]?.reason ?? '', /^expired at 2026-11-25 17:00 UTC \(1h 00m ago\)$/)
    assert.equal(plan.brake, null)
  })

  it('leaves a demo that has not expired alone, by the clock it is given', () => {
    const demo = aRow({expiresAt: LATER})
    const plan = planGarbage(picture({rows: [demo], namespaces: [nsOf(demo)]}), POLICY)
    assert.deepEqual(plan.actions, [])
    assert.deepEqual(plan.skipped, [])
  })

  it('destroys expired degraded and creating demos too', () => {
    const degraded = aRow({status: 'degraded', expiresAt: EXPIRED})
    const creating = aRow({status: 'creating', expiresAt: EXPIRED, createdAt: new Date('2026-11-25T17:55:00Z')})
    const plan = planGarbage(picture({rows: [degraded, creating], namespaces: [nsOf(degraded), nsOf(creating)]}), POLICY)
    assert.deepEqual(kinds(plan), [`destroy ${degraded.id}`, `destroy ${creating.id}`])
  })

  it('only reports an expired demo with auto_cleanup off, with how long it is overdue', () => {
    const demo = aRow({expiresAt: EXPIRED, autoCleanup: false})
    const plan = planGarbage(picture({rows: [demo], namespaces: [nsOf(demo)]}), POLICY)
    assert.deepEqual(plan.actions, [])
    assert.deepEqual(plan.overdue, [
      {demoId: demo.id, namespace: demo.namespace, createdBy: demo.createdBy, expiresAt: EXPIRED, overdueMs: 3_600_000},
    ])
  })

  it('destroys a create that has been creating longer than the wait timeout plus grace, and not a younger one', () => {
    const dead = aRow({status: 'creating', expiresAt: LATER, createdAt: new Date('2026-11-25T17:44:59Z')})
    const young = aRow({status: 'creating', expiresAt: LATER, createdAt: new Date('2026-11-25T17:45:00Z')})
    const plan = planGarbage(picture({rows: [dead, young], namespaces: [nsOf(dead), nsOf(young)]}), POLICY)
    assert.deepEqual(kinds(plan), [`destroy ${dead.id}`])
    assert.match(plan.actions[0]?.reason ?? '', /creating for 15m, longer than the wait timeout plus grace \(15m\): a create that died/)
  })

  it('says nothing of a young create whose namespace does not exist yet', () => {
    const young = aRow({status: 'creating', expiresAt: LATER, createdAt: new Date('2026-11-25T17:59:00Z')})
    const plan = planGarbage(picture({rows: [young]}), POLICY)
    assert.deepEqual(plan.actions, [])
    assert.equal(plan.brake, null)
  })

  it('finishes a destroying demo, whether or not its namespace is still there', () => {
    const withNs = aRow({status: 'destroying', expiresAt: LATER})
    const without = aRow({status: 'destroying', expiresAt: LATER})
    const plan = planGarbage(picture({rows: [withNs, without], namespaces: [nsOf(withNs)]}), POLICY)
    assert.deepEqual(kinds(plan), [`finish-destroy ${withNs.id}`, `finish-destroy ${without.id}`])
  })

  it('cleans up a failed create with leftovers; one kept on purpose only once it expired', () => {
    const incomplete = aRow({status: 'failed', metadata: {cleanup: 'incomplete'}, expiresAt: LATER})
    const keptYoung = aRow({status: 'failed', metadata: {cleanup: 'kept'}, expiresAt: LATER})
    const keptOld = aRow({status: 'failed', metadata: {cleanup: 'kept'}, expiresAt: EXPIRED})
    const rows = [incomplete, keptYoung, keptOld]
    const plan = planGarbage(picture({rows, namespaces: rows.map((d) => nsOf(d))}), POLICY)
    assert.deepEqual(kinds(plan), [`clean-up ${incomplete.id}`, `clean-up ${keptOld.id}`])
    assert.match(plan.actions[0]?.reason ?? '', /failed create left namespace demo-\S+ behind \(cleanup incomplete\)/)
  })

  it('records a live demo whose namespace vanished, without counting it as a deletion', () => {
    const demo = aRow({expiresAt: LATER})
    const other = aRow({expiresAt: LATER})
    const plan = planGarbage(picture({rows: [demo, other], namespaces: [nsOf(other)]}), POLICY)
    assert.deepEqual(kinds(plan), [`record-vanished ${demo.id}`])
    assert.match(plan.actions[0]?.reason ?? '', /vanished outside demo/)
    assert.equal(plan.actions[0]?.deletes, false)
  })

  it('records a vanished demo with auto_cleanup off as well: there is nothing left to keep', () => {
    const demo = aRow({expiresAt: EXPIRED, autoCleanup: false})
    const other = aRow({expiresAt: LATER})
    const plan = planGarbage(picture({rows: [demo, other], namespaces: [nsOf(other)]}), POLICY)
    assert.deepEqual(kinds(plan), [`record-vanished ${demo.id}`])
  })

  it('deletes an orphan namespace (no row, or a destroyed or failed one) older than the grace period', () => {
    const gone = aRow({status: 'destroyed', destroyedAt: EXPIRED})
    const failed = aRow({status: 'failed', metadata: {cleanup: 'done'}})
    const noRow = {id: 'zorphan1', namespace: 'demo-zorphan1'}
    const plan = planGarbage(picture({otherRows: [gone, failed], namespaces: [nsOf(gone), nsOf(failed), nsOf(noRow)]}), POLICY)
    assert.deepEqual(kinds(plan), [`delete-orphan ${gone.id}`, `delete-orphan ${failed.id}`, 'delete-orphan zorphan1'])
    assert.deepEqual(
      plan.orphans.map((o) => o.rowStatus),
      ['destroyed', 'failed', null],
    )
    assert.match(plan.actions[2]?.reason ?? '', /no row records its demo/)
  })

  it('leaves an orphan younger than the grace period, or without a creation time, or already terminating, and says why', () => {
    const young = {id: 'zyoung01', namespace: 'demo-zyoung01'}
    const unknown = {id: 'zunknown', namespace: 'demo-zunknown'}
    const going = {id: 'zgoing01', namespace: 'demo-zgoing01'}
    const namespaces = [
      nsOf(young, {createdAt: new Date('2026-11-25T17:51:00Z')}),
      nsOf(unknown, {createdAt: null}),
      nsOf(going, {terminating: true}),
    ]
    const plan = planGarbage(picture({namespaces}), POLICY)
    assert.deepEqual(plan.actions, [])
    assert.deepEqual(
      plan.skipped.map((s) => [s.demoId, s.reason.replace(/ \(.*$/, '')]),
      [
        ['zyoung01', 'orphan namespace younger than the grace period'],
        ['zunknown', 'orphan namespace younger than the grace period'],
        ['zgoing01', 'orphan namespace already terminating'],
      ],
    )
  })

  it('never deletes a namespace that carries the marks of a live demo under another name', () => {
    const demo = aRow({expiresAt: LATER})
    const plan = planGarbage(picture({rows: [demo], namespaces: [nsOf(demo), nsOf({id: demo.id, namespace: 'demo-elsewhere'})]}), POLICY)
    assert.deepEqual(plan.actions, [])
    assert.match(plan.skipped[0]?.reason ?? '', /carries the marks of demo \S+, which is ready/)
  })

  it('drops a database with no live row, and not one whose row is live', () => {
    const live = aRow({expiresAt: LATER})
    const databases = [
      {demoId: live.id, name: `schema demo_${live.id}`, database: {mode: 'shared-schema' as const, schema: `demo_${live.id}`, supabase: null}},
      {demoId: 'zorphan2', name: 'schema demo_zorphan2', database: {mode: 'shared-schema' as const, schema: 'demo_zorphan2', supabase: null}},
    ]
    const plan = planGarbage(picture({rows: [live], namespaces: [nsOf(live)], databases}), POLICY)
    assert.deepEqual(kinds(plan), ['drop-database zorphan2'])
  })

  describe('one cluster, many kubeconfigs', () => {
    it('acts on rows of this cluster by identity, whatever context created them', () => {
      const demo = aRow({expiresAt: EXPIRED, kubeContext: 'laptop'})
      const plan = planGarbage(picture({rows: [demo], namespaces: [nsOf(demo)]}), POLICY)
      assert.deepEqual(kinds(plan), [`destroy ${demo.id}`])
    })

    it('reports rows of another cluster as skipped, by identity, or by context name for rows without one', () => {
      const elsewhere = aRow({expiresAt: EXPIRED, clusterId: 'uid-other', kubeContext: 'ci'})
      const oldRowHere = aRow({expiresAt: EXPIRED, clusterId: null, kubeContext: 'ci'})
      const oldRowElsewhere = aRow({expiresAt: EXPIRED, clusterId: null, kubeContext: 'prod'})
      const rows = [elsewhere, oldRowHere, oldRowElsewhere]
      const plan = planGarbage(picture({rows, namespaces: [nsOf(oldRowHere)]}), POLICY)
      assert.deepEqual(kinds(plan), [`destroy ${oldRowHere.id}`])
      assert.deepEqual(
        plan.skipped.map((s) => s.demoId),
        [elsewhere.id, oldRowElsewhere.id],
      )
      assert.match(plan.skipped[0]?.reason ?? '', /lives in another cluster \(cluster uid-other\)/)
    })
  })

  describe('the safety brake', () => {
    it('engages when the cluster lists no namespace while live demos of this cluster need one', () => {
      const rows = [aRow({expiresAt: LATER}), aRow({expiresAt: EXPIRED})]
      const plan = planGarbage(picture({rows}), POLICY)
      assert.match(plan.brake ?? '', /^the cluster lists no namespace with our marks, but 2 live demos of this cluster should have one/)
    })

    it('does not engage for an empty cluster whose only rows are of another cluster', () => {
      const plan = planGarbage(picture({rows: [aRow({clusterId: 'uid-other', expiresAt: LATER})]}), POLICY)
      assert.equal(plan.brake, null)
    })

    it('engages when more deletions are planned than allowed, naming the flag that allows them', () => {
      const rows = Array.from({length: 3}, () => aRow({expiresAt: EXPIRED}))
      const plan = planGarbage(picture({rows, namespaces: rows.map((d) => nsOf(d))}), {...POLICY, maxDeletions: 2})
      assert.match(plan.brake ?? '', /the plan deletes 3 objects, more than the allowed 2 .*--max-deletions 3/)
      assert.equal(planGarbage(picture({rows, namespaces: rows.map((d) => nsOf(d))}), {...POLICY, maxDeletions: 3}).brake, null)
    })
  })
})
