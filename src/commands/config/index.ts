import ConfigList from './list.js'

/** `demo config` alone shows the preferences, as `demo config list` does. */
export default class Config extends ConfigList {
  static override summary = 'Personal defaults for `demo create` (type, duration): list, get, set, unset.'
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config set duration 90m', '<%= config.bin %> config list --json']
}
