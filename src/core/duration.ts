import {UsageError} from './errors.js'

const UNIT_MS: Record<string, number> = {s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000}
const HOUR_MS = 3_600_000

/**
 * Parses "2h", "90m", "1h30m", "1.5h" or a bare number of hours into milliseconds.
 * With `bareNumber: 'refuse'` a number without a unit is refused: for a timeout, "300" would be read as 300
 * hours when its author surely meant seconds. Throws UsageError naming the accepted forms.
 */
export function parseDuration(text: string, what = 'duration', options: {bareNumber?: 'hours' | 'refuse'} = {}): number {
  const trimmed = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    if (options.bareNumber === 'refuse') {
      throw new UsageError(`${what} "${text}" needs a unit.`, {hint: `Write e.g. ${trimmed}s or ${trimmed}m (s, m, h).`})
    }
    return Math.round(Number(trimmed) * HOUR_MS)
  }
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)]
  const consumed = parts.map((p) => p[0]).join('')
  if (parts.length === 0 || consumed !== trimmed) {
    throw new UsageError(`Cannot parse ${what} "${text}".`, {hint: 'Use hours, minutes or seconds, e.g. 2h, 90m, 1h30m, 300s or 3 (hours).'})
  }
  return Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * (UNIT_MS[unit ?? 'h'] ?? HOUR_MS), 0))
}

/** Formats a span as "1h 05m", "12m", "45s"; negative spans as "-12m". */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : ''
  const abs = Math.abs(ms)
  if (abs < 60_000) return `${sign}${Math.floor(abs / 1000)}s`
  const totalMinutes = Math.floor(abs / 60_000)
  const hours = Math.floor(totalMinutes / 60)
  const minutes = totalMinutes % 60
  if (hours === 0) return `${sign}${minutes}m`
  if (hours >= 48) return `${sign}${Math.floor(hours / 24)}d ${hours % 24}h`
  return `${sign}${hours}h ${String(minutes).padStart(2, '0')}m`
}

export function hours(n: number): number {
  return n * HOUR_MS
}

/** A moment in messages of core, to the minute in UTC ("2026-11-25 14:05 UTC"); the CLI shows local times. */
export function formatUtc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
