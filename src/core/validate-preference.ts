import type {LifetimePolicy} from './demo.js'
import {checkDemoType, checkDuration} from './create-options.js'
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

/**
 * The value to store for a preference, checked against the project config: a type it defines, a duration
 * that parses and lies within the lifetime bounds. Throws UsageError (exit 2) otherwise.
 */
export function validatePreference(
  key: PreferenceKey,
  value: string,
  project: {types: Record<string, unknown>; lifetime: Pick<LifetimePolicy, 'minHours' | 'maxHours' | 'defaultHours'>},
): string {
  const trimmed = value.trim()
  if (key === 'type') return checkDemoType(project.types, trimmed)
  checkDuration(project.lifetime, trimmed, 'preference')
  return trimmed
}
