import type {LifetimePolicy} from './demo.js'
import {hours, parseDuration} from './duration.js'
import {UsageError} from './errors.js'

/** Personal defaults for `demo create`, kept per user (never in the shared state). */
export interface Preferences {
  /** Default demo type. */
  type?: string
  /** Default duration, as the user wrote it ("2h", "90m"). */
  duration?: string
}

export const PREFERENCE_KEYS = ['type', 'duration'] as const satisfies ReadonlyArray<keyof Preferences>
export type PreferenceKey = (typeof PREFERENCE_KEYS)[number]

/** Throws UsageError unless `key` is a preference `demo config` knows. */
export function assertPreferenceKey(key: string): asserts key is PreferenceKey {
  if (!(PREFERENCE_KEYS as readonly string[]).includes(key)) {
    throw new UsageError(`Unknown preference "${key}".`, {hint: `Use one of: ${PREFERENCE_KEYS.join(', ')}.`})
  }
}

function validateType(value: string, types: readonly string[]): string {
  if (!types.includes(value)) {
    throw new UsageError(`Unknown demo type "${value}".`, {hint: `Use one of: ${types.join(', ')} (the types in demo.config.yaml).`})
  }
  return value
}

function validateDuration(value: string, lifetime: Pick<LifetimePolicy, 'minHours' | 'maxHours'>): string {
  const ms = parseDuration(value, 'duration')
  if (ms < hours(lifetime.minHours) || ms > hours(lifetime.maxHours)) {
    throw new UsageError(`Duration "${value}" is out of range: demos live between ${lifetime.minHours}h and ${lifetime.maxHours}h.`, {
      hint: `Run \`demo config set duration ${lifetime.minHours <= 2 && lifetime.maxHours >= 2 ? '2h' : `${lifetime.maxHours}h`}\`.`,
    })
  }
  return value
}

/**
 * The value to store for a preference, checked against the project config: a type it defines, a duration
 * that parses and lies within the lifetime bounds. Throws UsageError (exit 2) otherwise.
 */
export function validatePreference(
  key: PreferenceKey,
  value: string,
  project: {types: Record<string, unknown>; lifetime: Pick<LifetimePolicy, 'minHours' | 'maxHours'>},
): string {
  const trimmed = value.trim()
  return key === 'type' ? validateType(trimmed, Object.keys(project.types)) : validateDuration(trimmed, project.lifetime)
}
