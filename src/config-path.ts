import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {ConfigError} from './core/errors.js'

/**
 * The config file named by --config or DEMO_CONFIG, resolved against `cwd`, or null when none is named.
 * Throws ConfigError when it does not exist. A module of its own (no YAML, no zod), so that list and get,
 * which never load the config, still refuse a --config that points nowhere instead of ignoring it.
 */
export function explicitConfigPath(sources: {cwd: string; env: NodeJS.ProcessEnv; configFlag?: string | undefined}): string | null {
  const explicit = sources.configFlag ?? sources.env.DEMO_CONFIG
  if (!explicit) return null
  const path = resolve(sources.cwd, explicit)
  if (!existsSync(path)) {
    throw new ConfigError(`Config file ${path} does not exist.`, {
      hint: 'Fix --config / DEMO_CONFIG, or remove it to use demo.config.yaml or the built-in stack.',
    })
  }
  return path
}
