import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {assertPreferenceKey, PREFERENCE_KEYS} from '../../core/validate-preference.js'
import type {PreferenceResult} from './set.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override summary = 'Print one personal default (type or duration).'
  static override description = 'Prints the value on stdout, or nothing when it is not set (exit 0 either way). Read-only.'
  static override examples = ['<%= config.bin %> config get type', '<%= config.bin %> config get duration --json']
  static override args = {key: Args.string({description: `Preference: ${PREFERENCE_KEYS.join(', ')}.`, required: true})}

  async run(): Promise<PreferenceResult> {
    const {key} = this.args
    assertPreferenceKey(key)
    const preferences = await this.deps.preferencesFile()
    const value = preferences.get(key) ?? null
    if (value === null) this.note(`${key} is not set; \`demo create\` uses the project default.`)
    else this.log(value)
    return {key, value, path: preferences.path}
  }
}
