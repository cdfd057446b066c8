import {UsageError} from './errors.js'

/**
 * The schedule of a Kubernetes CronJob: five fields (minute hour day-of-month month day-of-week) or one of the
 * descriptors, as the API server's parser (robfig/cron's ParseStandard) reads them. Checked here so a typo is a
 * usage error (exit 2) before anything is applied, not a 422 halfway through an install.
 * https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax
 */
const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

interface Field {
  name: string
  min: number
  max: number
  names?: string[]
  /** Whether "?" (any) is allowed, as in day-of-month and day-of-week. */
  question?: boolean
}

const FIELDS: Field[] = [
  {name: 'minute', min: 0, max: 59},
  {name: 'hour', min: 0, max: 23},
  {name: 'day of month', min: 1, max: 31, question: true},
  {name: 'month', min: 1, max: 12, names: MONTHS},
  {name: 'day of week', min: 0, max: 7, names: DAYS, question: true},
]

function valueOf(text: string, field: Field): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1
  if (named >= 0) return named + (field.min === 1 ? 1 : 0)
  if (!/^\d+$/.test(text)) return undefined
  const value = Number(text)
  return value >= field.min && value <= field.max ? value : undefined
}

/** Why a range ("5", "1-5", "MON-FRI") is wrong, or undefined when it is fine. */
function rangeProblem(range: string, part: string, field: Field): string | undefined {
  const [from = '', to, more] = range.split('-')
  const start = valueOf(from, field)
  const end = to === undefined ? start : valueOf(to, field)
  if (more !== undefined || start === undefined || end === undefined) return `"${part}" is not a ${field.name} (${field.min}-${field.max})`
  return end < start ? `"${part}" is a range that ends before it starts` : undefined
}

/** Why one comma-separated part of a field is wrong, or undefined when it is fine. */
function partProblem(part: string, field: Field): string | undefined {
  const [range = '', step, extra] = part.split('/')
  if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) return `"${part}" has a bad step`
  if (range === '*' || (range === '?' && field.question)) return undefined
  return rangeProblem(range, part, field)
}

/** Why the schedule is not a cron expression the API server accepts, or undefined when it is one. */
export function cronProblem(schedule: string): string | undefined {
  const text = schedule.trim()
  if (text.startsWith('@')) return DESCRIPTORS.has(text) ? undefined : `"${text}" is not one of ${[...DESCRIPTORS].join(', ')}`
  if (/^(CRON_)?TZ=/.test(text)) return 'a time zone prefix (TZ=...) is not allowed; the CronJob runs in UTC'
  const fields = text.split(/\s+/)
  if (fields.length !== 5) return `it has ${fields.length} field(s); a schedule has 5 (minute hour day-of-month month day-of-week)`
  for (const [i, value] of fields.entries()) {
    const field = FIELDS[i] as Field
    for (const part of value.split(',')) {
      const problem = partProblem(part, field)
      if (problem) return `the ${field.name} field: ${problem}`
    }
  }
  return undefined
}

/** The schedule, trimmed; UsageError naming the flag and what is wrong otherwise. */
export function parseCronSchedule(schedule: string, flag: string): string {
  const problem = cronProblem(schedule)
  if (problem) {
    throw new UsageError(`${flag} "${schedule}" is not a cron schedule: ${problem}.`, {
      hint: `Use five fields, e.g. ${flag} "*/15 * * * *" (every 15 minutes), or a descriptor such as @hourly.`,
    })
  }
  return schedule.trim()
}
