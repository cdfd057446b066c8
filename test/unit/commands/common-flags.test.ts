// The README's "Common flags" table is the contract of flag names: each row's flag exists, with that name,
// in every command the row lists, so the table cannot drift from the code.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import type {Command} from '@oclif/core'
import Create from '../../../src/commands/create.js'
import Destroy from '../../../src/commands/destroy.js'
import Extend from '../../../src/commands/extend.js'
import Get from '../../../src/commands/get.js'
import List from '../../../src/commands/list.js'
import ConfigGet from '../../../src/commands/config/get.js'
import ConfigList from '../../../src/commands/config/list.js'
import ConfigSet from '../../../src/commands/config/set.js'
import ConfigUnset from '../../../src/commands/config/unset.js'
import Version from '../../../src/commands/version.js'
import Doctor from '../../../src/commands/doctor.js'
import Stats from '../../../src/commands/stats.js'
import Reset from '../../../src/commands/reset.js'

const COMMANDS: Record<string, typeof Command> = {
  create: Create,
  destroy: Destroy,
  extend: Extend,
  get: Get,
  list: List,
  version: Version,
  doctor: Doctor,
  stats: Stats,
  reset: Reset,
}
const ALL = [...Object.values(COMMANDS), ConfigGet, ConfigList, ConfigSet, ConfigUnset]

interface Row {
  flags: string[]
  commands: string[]
}

function commonFlagsTable(): Row[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('### Common flags'), readme.indexOf('### `demo create`'))
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split(' | ')
      const flags = [...(cells[0] ?? '').matchAll(/--(?:\[no-\])?([a-z-]+)/g)].map((m) => m[1] ?? '')
      const commands = (cells.at(-1) ?? '').replace(/\|$/, '').trim()
      return {flags, commands: commands === 'all' ? ['all'] : commands.split(', ')}
    })
}

function flagNames(command: typeof Command): string[] {
  return Object.keys({...command.baseFlags, ...command.flags, ...(command.enableJsonFlag ? {json: true} : {})})
}

describe('the README "Common flags" table', () => {
  const rows = commonFlagsTable()

  it('has rows', () => assert.ok(rows.length >= 8, `found ${rows.length} rows`))

  for (const row of rows) {
    it(`--${row.flags.join(', --')} exists in ${row.commands.join(', ')}`, () => {
      const commands = row.commands[0] === 'all' ? ALL : row.commands.map((name) => COMMANDS[name])
      for (const [i, command] of commands.entries()) {
        assert.ok(command, `README names an unknown command "${row.commands[i]}"`)
        for (const flag of row.flags) assert.ok(flagNames(command).includes(flag), `${command.name} has no --${flag}`)
      }
    })
  }
})
