import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import envPaths from 'env-paths'
import {PREFERENCE_KEYS, type Preferences} from '../core/validate-preference.js'

/**
 * Where personal preferences live: DEMO_PREFERENCES_DIR, else the user's config directory for "demo"
 * (~/.config/demo on Linux, the same place conf uses for `demo config`), file preferences.json.
 *
 * This module must not import conf: conf pulls in when-exit, which re-raises SIGINT after any handler
 * runs, and that would turn `demo create`'s graceful Ctrl-C (cancel, roll back) into an abrupt exit.
 */
export function preferencesPath(env: NodeJS.ProcessEnv): string {
  const dir = env.DEMO_PREFERENCES_DIR || envPaths('demo', {suffix: ''}).config
  return join(dir, 'preferences.json')
}

/**
 * The one parser of the file's text, for both ways in (conf for `demo config`, readPreferences for create):
 * its JSON object, or undefined when the text is not one (invalid JSON, an array, null, a scalar).
 */
export function parsePreferencesText(text: string): Record<string, unknown> | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
}

/** What both ways in say about a file parsePreferencesText refuses. */
export function notAnObject(path: string): string {
  return `Preferences file ${path} is not a JSON object.`
}

/** The preferences of a parsed file: known keys with non-empty string values; everything else is dropped. */
export function pickKnown(raw: Record<string, unknown>): Preferences {
  const known: Preferences = {}
  for (const key of PREFERENCE_KEYS) {
    const value = raw[key]
    if (typeof value === 'string' && value.trim() !== '') known[key] = value
  }
  return known
}

/**
 * The user's preferences for `demo create`. Tolerant by design: preferences are a convenience, so a
 * missing, unreadable or corrupt file reads as no preferences and never stops a create (`demo config list`
 * reports the corruption instead); values of the wrong type or unknown keys are dropped. Values are not
 * checked against the project config here: the caller validates them as it would a flag.
 * `warn` hears why the file was ignored, for a note on stderr.
 */
export function readPreferences(env: NodeJS.ProcessEnv, warn?: (message: string) => void): Preferences {
  const path = preferencesPath(env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      warn?.(`Ignoring preferences: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`)
    return {}
  }
  const parsed = parsePreferencesText(text)
  if (!parsed) {
    warn?.(`Ignoring preferences: ${notAnObject(path)}`)
    return {}
  }
  return pickKnown(parsed)
}
