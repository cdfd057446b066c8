import {BaseCommand} from '../../base-command.js'
import type {Preferences} from '../../adapters/preferences.js'
import {PREFERENCE_KEYS} from '../../core/validate-preference.js'
import {table} from '../../render.js'

export interface PreferencesResult {
  preferences: Preferences
  path: string
}

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override summary = 'Show your personal defaults for `demo create` and where they are stored.'
  static override description = 'Read-only. A corrupt preferences file is reported (exit 2) with its path.'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json | jq .path']

  async run(): Promise<PreferencesResult> {
    const preferences = await this.deps.preferencesFile()
    const values = preferences.all()
    this.log(
      table(
        ['KEY', 'VALUE'],
        PREFERENCE_KEYS.map((key) => [key, values[key] ?? '(not set)']),
      ),
    )
    this.note(`Stored in ${preferences.path}`)
    return {preferences: values, path: preferences.path}
  }
}
