import type {LifetimePolicy} from './demo.js'
import {hours, parseDuration} from './duration.js'
import {UsageError} from './errors.js'

/**
 * Where a create option came from, for the message: a flag of `demo create`, a preference being set with
 * `demo config set`, or a stored preference that `demo create` used because no flag was given.
 */
export type OptionSource = 'flag' | 'preference' | 'stored-preference'

const DURATION_NAME: Record<OptionSource, string> = {
  flag: '--duration',
  preference: 'duration',
  'stored-preference': 'Your default duration (from `demo config set duration`)',
}

function durationHint(source: OptionSource, defaultHours: number): string {
  const retry: Record<OptionSource, string> = {
    flag: `Pass e.g. --duration ${defaultHours}h`,
    preference: `Run \`demo config set duration ${defaultHours}h\``,
    'stored-preference': `Pass --duration, or run \`demo config set duration ${defaultHours}h\` or \`demo config unset duration\``,
  }
  return `${retry[source]} (lifetime.minHours/maxHours in demo.config.yaml set the range).`
}

/**
 * The one rule for a demo type, whether given as `--type` or as a preference: one of the project config's
 * types. Returns it; throws UsageError (exit 2) listing the types otherwise.
 */
export function checkDemoType(types: Record<string, unknown>, type: string, source: OptionSource = 'flag'): string {
  if (!Object.hasOwn(types, type)) {
    const known = Object.keys(types).join(', ')
    if (source === 'stored-preference') {
      throw new UsageError(
        `Unknown demo type "${type}": it is your default, from \`demo config set type\`, and this project's demo.config.yaml does not define it.`,
        {
          hint: `Pass --type with one of: ${known}; or run \`demo config unset type\`.`,
        },
      )
    }
    throw new UsageError(`Unknown demo type "${type}".`, {hint: `Use one of: ${known} (the types in demo.config.yaml).`})
  }
  return type
}

/**
 * The one rule for a demo's lifetime, whether given as `--duration` or as a preference: it parses and lies
 * within lifetime.minHours..maxHours. Returns it in milliseconds; throws UsageError (exit 2) naming the flag
 * or the preference otherwise.
 */
export function checkDuration(
  lifetime: Pick<LifetimePolicy, 'minHours' | 'maxHours' | 'defaultHours'>,
  duration: string,
  source: OptionSource,
): number {
  const name = DURATION_NAME[source]
  const ms = parseDuration(duration, name)
  if (ms < hours(lifetime.minHours) || ms > hours(lifetime.maxHours)) {
    throw new UsageError(`${name} must be between ${lifetime.minHours}h and ${lifetime.maxHours}h, got ${duration.trim()}.`, {
      hint: durationHint(source, lifetime.defaultHours),
    })
  }
  return ms
}
