import type {Demo, DemoDatabase} from './core/demo.js'
import {formatDuration} from './core/duration.js'
import type {DemoEvent} from './core/ports.js'

export const MASK = '********'

/** A demo as the CLI shows it (and as its --json contract): ISO dates, an "expires in", secrets masked unless asked. */
export interface DemoView {
  id: string
  name: string | null
  namespace: string
  type: string
  status: string
  createdBy: string
  portalUrl: string
  candidateUrl: string
  createdAt: string
  expiresAt: string
  expiresInSeconds: number
  expiresIn: string
  readyAt: string | null
  destroyedAt: string | null
  autoCleanup: boolean
  extensionCount: number
  lastError: string | null
  phaseTimings: Record<string, number>
  kubeContext: string | null
  database: DatabaseView
  /** The seed value its data was generated from (`demo create --seed-value` reproduces it); null on old rows. */
  seedValue: number | null
}

/**
 * A demo's database in the --json contract: the same flat keys for every mode (null where a mode has no such
 * thing), as before the row's record became a union, so scripts reading `database.schema` keep working.
 */
export interface DatabaseView {
  mode: string
  schema: string | null
  supabaseProjectId: string | null
  supabaseUrl: string | null
  supabaseAnonKey: string | null
}

function unmaskedDatabaseView(database: DemoDatabase): DatabaseView {
  const none = {mode: database.mode, schema: null, supabaseProjectId: null, supabaseUrl: null, supabaseAnonKey: null}
  switch (database.mode) {
    case 'none':
      return none
    case 'shared-schema': {
      const {supabase} = database
      return {
        ...none,
        schema: database.schema,
        supabaseProjectId: supabase?.projectRef ?? null,
        supabaseUrl: supabase?.url ?? null,
        supabaseAnonKey: supabase?.anonKey ?? null,
      }
    }
    case 'supabase-project':
      return {...none, supabaseProjectId: database.projectRef, supabaseUrl: database.url, supabaseAnonKey: database.anonKey}
  }
}

function databaseView(database: DemoDatabase, showSecrets: boolean): DatabaseView {
  const view = unmaskedDatabaseView(database)
  return view.supabaseAnonKey && !showSecrets ? {...view, supabaseAnonKey: MASK} : view
}

function expiresInText(gone: boolean, leftMs: number): string {
  if (gone) return '-'
  return leftMs <= 0 ? `expired ${formatDuration(-leftMs)} ago` : formatDuration(leftMs)
}

export function toDemoView(demo: Demo, now: Date, options: {showSecrets?: boolean} = {}): DemoView {
  const left = demo.expiresAt.getTime() - now.getTime()
  const gone = demo.status === 'destroyed'
  return {
    id: demo.id,
    name: demo.name,
    namespace: demo.namespace,
    type: demo.demoType,
    status: demo.status,
    createdBy: demo.createdBy,
    portalUrl: demo.portalUrl,
    candidateUrl: demo.candidateUrl,
    createdAt: demo.createdAt.toISOString(),
    expiresAt: demo.expiresAt.toISOString(),
    expiresInSeconds: gone ? 0 : Math.round(left / 1000),
    expiresIn: expiresInText(gone, left),
    readyAt: demo.readyAt?.toISOString() ?? null,
    destroyedAt: demo.destroyedAt?.toISOString() ?? null,
    autoCleanup: demo.autoCleanup,
    extensionCount: demo.extensionCount,
    lastError: demo.lastError,
    phaseTimings: demo.phaseTimings,
    kubeContext: demo.kubeContext,
    database: databaseView(demo.database, options.showSecrets ?? false),
    seedValue: demo.seedValue,
  }
}

/**
 * A plain-text table: columns padded to their widest cell. With `width` (a terminal's columns), the last
 * column is cut with "…" so no row wraps.
 */
export function table(headers: string[], rows: string[][], options: {width?: number | undefined} = {}): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const last = widths.length - 1
  if (options.width && last > 0) {
    const before = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0)
    widths[last] = Math.max(headers[last]?.length ?? 0, Math.min(widths[last] ?? 0, options.width - before - 1))
  }
  const fit = (cell: string, i: number) => (i === last && cell.length > (widths[i] ?? 0) ? `${cell.slice(0, (widths[i] ?? 1) - 1)}…` : cell)
  const line = (cells: string[]) =>
    cells
      .map((c, i) => fit(c, i).padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

export function eventLine(event: DemoEvent): string {
  const data = Object.keys(event.data).length > 0 ? ` ${JSON.stringify(event.data)}` : ''
  return `${localTime(event.at)}  ${event.type.padEnd(11)} ${event.actor}${data}`
}

/**
 * A moment for people: local time to the minute with the zone ("2026-11-25 15:05 CET"), in the zone of the
 * TZ environment variable or the system. --json keeps ISO 8601 in UTC.
 */
export function localTime(at: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    ...(timeZone ? {timeZone} : {}),
  }).formatToParts(at)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`
}
