import Conf from 'conf'
import {ConfigError} from '../core/errors.js'
import {dirname} from 'node:path'
import type {PreferenceKey, Preferences} from '../core/validate-preference.js'
import {notAnObject, parsePreferencesText, pickKnown, preferencesPath} from './preferences-file.js'

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
    // The same parser as readPreferences; conf keeps the whole object so a write leaves unknown keys alone.
    deserialize: (text) => {
      const parsed = parsePreferencesText(text)
      corrupt = parsed === undefined
      return parsed ?? {}
    },
    // The same file readPreferences reads (preferences-file.ts), whatever the platform.
    cwd: dirname(preferencesPath(env)),
  })
  return {conf, corrupt: () => corrupt}
}

/**
 * Opens the preferences file for `demo config`. Throws ConfigError (exit 2) naming the file when it is
 * not a JSON object, so the user learns about it instead of having it overwritten; nothing is written then.
 */
export function openPreferences(env: NodeJS.ProcessEnv): PreferencesFile {
  const {conf, corrupt} = openConf(env)
  if (corrupt()) {
    throw new ConfigError(notAnObject(conf.path), {hint: `Fix or delete ${conf.path}; \`demo config set\` then starts a new one.`})
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

export {readPreferences} from './preferences-file.js'
