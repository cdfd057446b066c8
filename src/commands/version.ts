import {BaseCommand} from '../base-command.js'

export interface VersionResult {
  name: string
  version: string
  platform: string
  node: string
}

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Print the version of demo (the same line as --version).'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  // Nothing to wait for; oclif still wants a promise.
  run(): Promise<VersionResult> {
    const {name, version, platform, arch} = this.config
    this.log(`${name}/${version} ${platform}-${arch} node-${process.version}`)
    return Promise.resolve({name, version, platform: `${platform}-${arch}`, node: process.version})
  }
}
