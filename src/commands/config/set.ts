import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {assertPreferenceKey, PREFERENCE_KEYS, validatePreference} from '../../core/validate-preference.js'

export interface PreferenceResult {
  key: string
  value: string | null
  path: string
}

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override summary = 'Set a personal default for `demo create`: type or duration.'
  static override description =
    'Checked against demo.config.yaml: the type must be one it defines, the duration must lie within lifetime.minHours and lifetime.maxHours. An invalid value is refused (exit 2) and nothing is written. Stored per user (DEMO_PREFERENCES_DIR overrides the directory); flags of `demo create` still win.'
  static override examples = ['<%= config.bin %> config set type startup', '<%= config.bin %> config set duration 90m']
  static override args = {
    key: Args.string({description: `Preference: ${PREFERENCE_KEYS.join(', ')}.`, required: true}),
    value: Args.string({description: 'New value.', required: true}),
  }

  async run(): Promise<PreferenceResult> {
    const {key, value} = this.args
    assertPreferenceKey(key)
    const checked = validatePreference(key, value, (await this.deps.config()).project)
    const preferences = await this.deps.preferencesFile()
    preferences.set(key, checked)
    this.log(`${key} = ${checked}`)
    this.note(`Saved in ${preferences.path}`)
    return {key, value: checked, path: preferences.path}
  }
}
