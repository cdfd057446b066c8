import {stripVTControlCharacters} from 'node:util'
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
 * Phase timings in the order the steps ran: `databaseCheck`, `record`, then CREATE_STEPS' keys in order (`steps`), each
 * followed by its parts (`database.seed`), then any key this version does not know, then `total`.
 */
export function orderedTimings(timings: Record<string, number>, steps: readonly string[]): Array<[string, number]> {
  const order = ['databaseCheck', 'record', ...steps]
  // A part of a step (`database.seed`) follows its step.
  const rankOf = (key: string) => (key === 'total' ? Number.MAX_SAFE_INTEGER : order.includes(key) ? order.indexOf(key) : order.length)
  const rank = (key: string) => (key.includes('.') ? rankOf(key.slice(0, key.indexOf('.'))) + 0.5 : rankOf(key))
  return Object.entries(timings).sort(([a], [b]) => rank(a) - rank(b))
}

/**
 * A plain-text table: columns padded to their widest cell. With `width` (a terminal's columns), the last
 * column is cut with "…" so no row wraps.
 */
export function table(headers: string[], rows: string[][], options: {width?: number | undefined} = {}): string {
  // Cells may be coloured: widths count what shows, not the escape codes.
  const visible = (cell: string) => stripVTControlCharacters(cell).length
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))))
  const last = widths.length - 1
  if (options.width && last > 0) {
    const before = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0)
    widths[last] = Math.max(headers[last]?.length ?? 0, Math.min(widths[last] ?? 0, options.width - before - 1))
  }
  const fit = (cell: string, i: number) =>
    i === last && visible(cell) > (widths[i] ?? 0) ? `${stripVTControlCharacters(cell).slice(0, (widths[i] ?? 1) - 1)}…` : cell
  const pad = (cell: string, width: number) => cell + ' '.repeat(Math.max(0, width - visible(cell)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(fit(c, i), widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** One line of a demo's history for people: the local time and what happened as a sentence. --json keeps the raw events. */
export function eventLine(event: DemoEvent): string {
  return `${localTime(event.at)}  ${eventSentence(event)}`
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** "1h", "90m", "1h 30m": a span as a person would say it in a sentence. */
export function spokenDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000)
  if (minutes < 1) return `${Math.round(ms / 1000)}s`
  if (minutes % 60 === 0) return `${minutes / 60}h`
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

const SENTENCES: Record<DemoEvent['type'], (data: Record<string, unknown>, by: string) => string> = {
  created: (d, by) => {
    const ttl = num(d.ttlHours)
    return `created${text(d.type) ? ` as ${text(d.type)}` : ''}${ttl === undefined ? '' : ` for ${spokenDuration(ttl * 3_600_000)}`} by ${by}`
  },
  ready: (d) => `became ready${num(d.seconds) === undefined ? '' : ` after ${num(d.seconds)}s`}`,
  failed: (d, by) => `failed: ${text(d.reason) ?? 'no reason recorded'}${text(d.cleanup) ? ` (cleanup ${text(d.cleanup)})` : ''}; recorded by ${by}`,
  'expiry-notice': (d, by) => {
    const about = text(d.expiresAt)
    return `"expiring soon" notice sent to its owner by ${by}${about ? ` (it was to expire ${localTime(new Date(about))})` : ''}`
  },
  'cleaned-up': (d, by) => `leftovers of the failed create cleaned up by ${by}${text(d.reason) ? `: ${text(d.reason)}` : ''}`,
  reset: (d, by) => `data reset to its seeded state${num(d.seedValue) === undefined ? '' : ` (seed value ${num(d.seedValue)})`} by ${by}`,
  'rolled-back': (d, by) => `failed and was rolled back: ${text(d.reason) ?? 'no reason recorded'}; recorded by ${by}`,
  extended: (d, by) => {
    const hoursBy = num(d.hours)
    const to = text(d.to)
    return `extended${hoursBy === undefined ? '' : ` by ${spokenDuration(hoursBy * 3_600_000)}`} by ${by}${to ? ` (now expires ${localTime(new Date(to))})` : ''}`
  },
  degraded: (d, by) =>
    `became degraded${text(d.result) ? ` (${text(d.result)})` : ''}, found by ${by}: ${list(d.problems).join('; ') || 'no problem recorded'}`,
  recovered: (d, by) => {
    const seconds = num(d.degradedSeconds)
    const resolved = list(d.resolved)
    return `recovered${seconds === undefined ? '' : ` after ${spokenDuration(seconds * 1000)} degraded`}, found by ${by}${resolved.length > 0 ? `; resolved: ${resolved.join('; ')}` : ''}`
  },
  destroying: (d, by) => `destroy started by ${by}${text(d.from) ? ` (was ${text(d.from)})` : ''}`,
  destroyed: (d, by) => `destroyed by ${by}${d.namespaceDeleted === false ? ' (its namespace was already gone)' : ''}`,
}

/** What happened, as a sentence ("extended by 1h by alice@example.com"); an event type this version does not know shows its data. */
export function eventSentence(event: DemoEvent): string {
  const sentence = SENTENCES[event.type] as ((data: Record<string, unknown>, by: string) => string) | undefined
  if (sentence) return sentence(event.data, event.actor)
  const data = Object.keys(event.data).length > 0 ? ` ${JSON.stringify(event.data)}` : ''
  return `${event.type} by ${event.actor}${data}`
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
