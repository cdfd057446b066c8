import Conf from 'conf'
import {ConfigError} from '../core/errors.js'
import {PREFERENCE_KEYS, type PreferenceKey, type Preferences} from '../core/validate-preference.js'

export type {Preferences} from '../core/validate-preference.js'

/** The personal preferences file: conf's user config directory for "demo" (or DEMO_PREFERENCES_DIR), preferences.json. */
export interface PreferencesFile {
  /** Absolute path of the JSON file (it may not exist yet). */
  readonly path: string
  all(): Preferences
  get(key: PreferenceKey): string | undefined
  set(key: PreferenceKey, value: string): void
  /** Removes the key; returns whether it was set. */
  unset(key: PreferenceKey): boolean
}

/** conf, reading a corrupt file as empty and remembering that it was corrupt (conf would throw a bare SyntaxError). */
function openConf(env: NodeJS.ProcessEnv): {conf: Conf<Preferences>; corrupt: () => boolean} {
  let corrupt = false
  const conf = new Conf<Preferences>({
    projectName: 'demo',
    // ~/.config/demo/preferences.json, next to oclif's own config dir, rather than conf's "demo-nodejs".
    projectSuffix: '',
    configName: 'preferences',
    accessPropertiesByDotNotation: false,
    deserialize: (text) => {
      try {
        const parsed: unknown = JSON.parse(text)
        corrupt = parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)
        return corrupt ? {} : (parsed as Preferences)
      } catch {
        corrupt = true
        return {}
      }
    },
    ...(env.DEMO_PREFERENCES_DIR ? {cwd: env.DEMO_PREFERENCES_DIR} : {}),
  })
  return {conf, corrupt: () => corrupt}
}

function pickKnown(raw: Record<string, unknown>): Preferences {
  const known: Preferences = {}
  for (const key of PREFERENCE_KEYS) {
    const value = raw[key]
    if (typeof value === 'string' && value.trim() !== '') known[key] = value
  }
  return known
}

/**
 * Opens the preferences file for `demo config`. Throws ConfigError (exit 2) naming the file when it is
 * not a JSON object, so the user learns about it instead of having it overwritten; nothing is written then.
 */
export function openPreferences(env: NodeJS.ProcessEnv): PreferencesFile {
  const {conf, corrupt} = openConf(env)
  if (corrupt()) {
    throw new ConfigError(`Preferences file ${conf.path} is not a JSON object.`, {hint: `Fix or delete ${conf.path}; \`demo config set\` then starts a new one.`})
  }
  return {
    path: conf.path,
    all: () => pickKnown(conf.store as Record<string, unknown>),
    get: (key) => pickKnown(conf.store as Record<string, unknown>)[key],
    set: (key, value) => conf.set(key, value),
    unset: (key) => {
      const had = conf.has(key)
      conf.delete(key)
      return had
    },
  }
}

/**
 * The user's preferences for `demo create`. Tolerant by design: preferences are a convenience, so a
 * missing, unreadable or corrupt file reads as no preferences and never stops a create (`demo config list`
 * reports the corruption instead); values of the wrong type or unknown keys are dropped. Values are not
 * checked against the project config here: the caller validates them as it would a flag.
 * `warn` hears why the file was ignored, for a note on stderr.
 */
export function readPreferences(env: NodeJS.ProcessEnv, warn?: (message: string) => void): Preferences {
  try {
    return openPreferences(env).all()
  } catch (error) {
    warn?.(`Ignoring preferences: ${error instanceof Error ? error.message : String(error)}`)
    return {}
  }
}
