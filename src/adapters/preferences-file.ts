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
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn?.(`Ignoring preferences: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`)
    return {}
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    warn?.(`Ignoring preferences: Preferences file ${path} is not a JSON object.`)
    return {}
  }
  return pickKnown(parsed as Record<string, unknown>)
}
