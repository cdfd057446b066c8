import {DEMO_STATUSES, isLive, type DemoStatus} from './demo.js'
import {UsageError} from './errors.js'
import type {DemoFilter, DemoPage, DemoStore} from './ports.js'

export const MAX_PAGE_SIZE = 100

export interface ListRequest {
  /**
   * Status names, "live" or "all". "live" is creating, ready, degraded and destroying, and also failed demos
   * that still hold objects (created with --keep-on-failure, or whose rollback did not finish): they cost
   * money until someone destroys them.
   */
  status: string[]
  createdBy?: string | undefined
  demoType?: string | undefined
  limit: number
  page: number
}

function statusesOf(requested: string[]): DemoStatus[] | undefined {
  if (requested.includes('all')) return undefined
  const statuses = new Set<DemoStatus>()
  for (const s of requested) {
    if (s === 'live') DEMO_STATUSES.filter(isLive).forEach((x) => statuses.add(x))
    else if ((DEMO_STATUSES as readonly string[]).includes(s)) statuses.add(s as DemoStatus)
    else throw new UsageError(`Unknown status "${s}".`, {hint: `Use one of: live, all, ${DEMO_STATUSES.join(', ')}.`})
  }
  return [...statuses]
}

/** One page of demos matching the filters, newest first. Throws UsageError for bad filters or paging. */
export async function listDemos(store: DemoStore, request: ListRequest): Promise<DemoPage & {page: number; limit: number}> {
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_PAGE_SIZE) {
    throw new UsageError(`--limit must be between 1 and ${MAX_PAGE_SIZE}, got ${request.limit}.`, {hint: 'Use --page to see further rows.'})
  }
  if (!Number.isInteger(request.page) || request.page < 1) throw new UsageError(`--page must be 1 or more, got ${request.page}.`)
  const filter: DemoFilter = {
    statuses: statusesOf(request.status),
    includeFailedWithLeftovers: request.status.includes('live'),
    createdBy: request.createdBy,
    demoType: request.demoType,
  }
  const result = await store.list(filter, {limit: request.limit, offset: (request.page - 1) * request.limit})
  return {...result, page: request.page, limit: request.limit}
}
