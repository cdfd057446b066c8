import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {assertPreferenceKey, PREFERENCE_KEYS} from '../../core/validate-preference.js'

export interface UnsetResult {
  key: string
  removed: boolean
  path: string
}

export default class ConfigUnset extends BaseCommand<typeof ConfigUnset> {
  static override summary = 'Remove a personal default, so `demo create` falls back to the project default.'
  static override description = 'Idempotent: removing a preference that is not set succeeds and says so.'
  static override examples = ['<%= config.bin %> config unset type', '<%= config.bin %> config unset duration --json']
  static override args = {key: Args.string({description: `Preference: ${PREFERENCE_KEYS.join(', ')}.`, required: true})}

  async run(): Promise<UnsetResult> {
    const {key} = this.args
    assertPreferenceKey(key)
    const preferences = await this.deps.preferencesFile()
    const removed = preferences.unset(key)
    this.log(removed ? `Removed ${key}.` : `${key} was not set.`)
    return {key, removed, path: preferences.path}
  }
}
