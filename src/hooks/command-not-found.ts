import {toConfiguredId, type Hook} from '@oclif/core'
import {closestMatch} from '../core/edit-distance.js'
import {ExitCode} from '../core/errors.js'

/**
 * An unknown command, as kubectl and gh answer it: the word typed (never oclif's `topic:command` form), the
 * nearest command or alias when it is a likely typo, and exit 2 (a usage error). A suggestion is never run.
 */
const hook: Hook.CommandNotFound = function (options) {
  const {config} = options
  const known = [...config.commandIDs, ...config.commands.flatMap((c) => c.aliases)].map((id) => toConfiguredId(id, config))
  const typed = toConfiguredId(options.id, config).split(' ')[0] ?? options.id
  const suggestion = closestMatch(typed, known)
  process.stderr.write(`Error: Unknown command "${typed}".\n`)
  process.stderr.write(
    `Hint: ${suggestion ? `Did you mean \`${config.bin} ${suggestion}\`? ` : ''}Run \`${config.bin} --help\` for the list of commands.\n`,
  )
  return Promise.resolve(this.exit(ExitCode.usage))
}

export default hook
