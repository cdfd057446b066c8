import {existsSync, readFileSync} from 'node:fs'
import {basename} from 'node:path'
import {projectPath, type LoadedConfig} from '../../../config.js'
import {ConfigError} from '../../../core/errors.js'
import type {SeedSource} from './seed-source.js'
import {readSeedProfile} from './seed-profile.js'

/**
 * The seed of a demo type as demo.config.yaml names it: seedFile (a SQL file of the project), seedCommand, or seed
 * (seeds/<seed>.yaml); a type with none of them gets no data. ConfigError naming the key for an unknown type, a
 * missing file or a path outside the project.
 */
export function seedSourceFor(config: Pick<LoadedConfig, 'project' | 'configPath' | 'projectDir' | 'seedsDir'>, demoType: string): SeedSource {
  const type = Object.hasOwn(config.project.types, demoType) ? config.project.types[demoType] : undefined
  const file = config.configPath ?? 'demo.config.yaml'
  if (!type) {
    throw new ConfigError(`${file}: demo type "${demoType}" is not configured, so its seed is unknown.`, {hint: `Add types.${demoType} to ${file}.`})
  }
  if (type.seedFile) {
    const path = projectPath(config.projectDir, type.seedFile, `types.${demoType}.seedFile`, config.configPath)
    if (!existsSync(path)) {
      throw new ConfigError(`${file}: "types.${demoType}.seedFile": ${path} does not exist.`, {
        hint: 'Give the path of a .sql file relative to demo.config.yaml.',
      })
    }
    return {kind: 'sql', file: {name: basename(path), text: readFileSync(path, 'utf8')}}
  }
  if (type.seedCommand) {
    return {kind: 'command', command: [...type.seedCommand.run], cwd: config.projectDir, timeoutMs: type.seedCommand.timeoutSeconds * 1000}
  }
  if (type.seed) return {kind: 'generated', name: type.seed, profile: readSeedProfile(config.seedsDir, type.seed)}
  return {kind: 'none'}
}
