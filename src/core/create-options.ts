import type {LifetimePolicy} from './demo.js'
import {hours, parseDuration} from './duration.js'
import {UsageError} from './errors.js'

/** Where a create option came from, for the message: a flag of `demo create` or a `demo config` preference. */
export type OptionSource = 'flag' | 'preference'

const DURATION_NAME: Record<OptionSource, string> = {flag: '--duration', preference: 'duration'}

function durationHint(source: OptionSource, defaultHours: number): string {
  const retry = source === 'flag' ? `Pass e.g. --duration ${defaultHours}h` : `Run \`demo config set duration ${defaultHours}h\``
  return `${retry} (lifetime.minHours/maxHours in demo.config.yaml set the range).`
}

/**
 * The one rule for a demo type, whether given as `--type` or as a preference: one of the project config's
 * types. Returns it; throws UsageError (exit 2) listing the types otherwise.
 */
export function checkDemoType(types: Record<string, unknown>, type: string): string {
  if (!Object.hasOwn(types, type)) {
    throw new UsageError(`Unknown demo type "${type}".`, {hint: `Use one of: ${Object.keys(types).join(', ')} (the types in demo.config.yaml).`})
  }
  return type
}

/**
 * The one rule for a demo's lifetime, whether given as `--duration` or as a preference: it parses and lies
 * within lifetime.minHours..maxHours. Returns it in milliseconds; throws UsageError (exit 2) naming the flag
 * or the preference otherwise.
 */
export function checkDuration(lifetime: Pick<LifetimePolicy, 'minHours' | 'maxHours' | 'defaultHours'>, duration: string, source: OptionSource): number {
  const name = DURATION_NAME[source]
  const ms = parseDuration(duration, name)
  if (ms < hours(lifetime.minHours) || ms > hours(lifetime.maxHours)) {
    throw new UsageError(`${name} must be between ${lifetime.minHours}h and ${lifetime.maxHours}h, got ${duration.trim()}.`, {hint: durationHint(source, lifetime.defaultHours)})
  }
  return ms
}
