import {allowedPredecessors, LIVE_STATUSES, mayHoldObjects, type Demo} from '../../src/core/demo.js'
import {MAX_REFERENCE_CANDIDATES, MIN_ID_PREFIX} from '../../src/core/naming.js'
import {DuplicateError, NotFoundError, StateTransitionError, VersionConflictError} from '../../src/core/errors.js'
import type {DemoEvent, DemoFilter, DemoPage, DemoPatch, DemoStore, InsertResult, LiveCaps, NewDemo, Page} from '../../src/core/ports.js'

/** An in-memory DemoStore with the same contract as the Postgres one (test/contract/demo-store.contract.ts). */
export class MemoryDemoStore implements DemoStore {
  readonly rows = new Map<string, Demo>()
  readonly log: DemoEvent[] = []
  /** When set, every call fails with it: the store stopped answering (a Postgres server gone mid-command). */
  unreachable: Error | undefined

  private answer(): void {
    if (this.unreachable) throw this.unreachable
  }

  describe(): string {
    return 'memory store'
  }

  /** The database's clock; set `clock` to make it differ from the machine's (a skewed CLI). */
  clock: () => Date = () => new Date()

  async now(): Promise<Date> {
    this.answer()
    return this.clock()
  }

  async insert(demo: NewDemo, caps: LiveCaps, event: DemoEvent): Promise<InsertResult> {
    this.answer()
    const live = [...this.rows.values()].filter((d) => LIVE_STATUSES.includes(d.status)).sort((a, b) => +a.expiresAt - +b.expiresAt)
    const mine = live.filter((d) => d.createdBy === demo.createdBy)
    if (mine.length >= caps.perOwner) return {refused: 'owner', live: mine}
    if (live.length >= caps.global) return {refused: 'global', live: live.slice(0, 10)}
    if (this.rows.has(demo.id) || [...this.rows.values()].some((d) => d.namespace === demo.namespace)) {
      throw new DuplicateError(`Cannot record demo "${demo.id}": the state store already has a demo with that id or namespace "${demo.namespace}".`)
    }
    const row: Demo = {
      ...structuredClone(demo),
      updatedAt: demo.createdAt,
      readyAt: null,
      destroyedAt: null,
      extensionCount: 0,
      lastError: null,
      phaseTimings: {},
      version: 1,
    }
    this.rows.set(demo.id, row)
    this.log.push(event)
    return {inserted: structuredClone(row)}
  }

  async get(id: string): Promise<Demo | undefined> {
    this.answer()
    const row = this.rows.get(id)
    return row ? structuredClone(row) : undefined
  }

  async findByReference(ref: string): Promise<Demo[]> {
    this.answer()
    const rank = (d: Demo) => (d.id === ref ? 0 : d.namespace === ref ? 1 : mayHoldObjects(d) ? 2 : 3)
    return [...this.rows.values()]
      .filter((d) => d.id === ref || d.namespace === ref || d.name === ref || (ref.length >= MIN_ID_PREFIX && d.id.startsWith(ref)))
      .sort((a, b) => rank(a) - rank(b) || +b.createdAt - +a.createdAt || a.id.localeCompare(b.id))
      .slice(0, MAX_REFERENCE_CANDIDATES)
      .map((d) => structuredClone(d))
  }

  async list(filter: DemoFilter, page: Page): Promise<DemoPage> {
    this.answer()
    const inStatuses = (d: Demo) => !filter.statuses || filter.statuses.length === 0 || filter.statuses.includes(d.status)
    const isLeftover = (d: Demo) => filter.includeFailedWithLeftovers === true && d.status === 'failed' && mayHoldObjects(d)
    const all = [...this.rows.values()]
      .filter((d) => inStatuses(d) || isLeftover(d))
      .filter((d) => !filter.createdBy || d.createdBy === filter.createdBy)
      .filter((d) => !filter.demoType || d.demoType === filter.demoType)
      .sort((a, b) => +b.createdAt - +a.createdAt || a.id.localeCompare(b.id))
    return {items: all.slice(page.offset, page.offset + page.limit).map((d) => structuredClone(d)), total: all.length}
  }

  async update(id: string, expectedVersion: number, patch: DemoPatch, event?: DemoEvent): Promise<Demo> {
    this.answer()
    const row = this.rows.get(id)
    if (!row) throw new NotFoundError(`No demo with id "${id}".`)
    if (row.version !== expectedVersion) throw new VersionConflictError(`Demo "${id}" was changed by another process.`)
    if (patch.status && !allowedPredecessors(patch.status).includes(row.status)) {
      throw new StateTransitionError(`Demo "${id}" cannot go from ${row.status} to ${patch.status}.`)
    }
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
    const next: Demo = {...row, ...structuredClone(defined), version: row.version + 1, updatedAt: new Date()}
    this.rows.set(id, next)
    if (event) this.log.push(event)
    return structuredClone(next)
  }

  async events(demoId: string): Promise<DemoEvent[]> {
    this.answer()
    return this.log.filter((e) => e.demoId === demoId).map((e) => structuredClone(e))
  }
}
