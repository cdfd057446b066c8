// The example GitHub Actions workflow (docs/ci/github-actions.yml) stays true: it parses, it has the jobs the
// README promises, and every `demo` command and flag it runs exists in src/commands.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, it} from 'node:test'
import {load} from 'js-yaml'
import type {Command} from '@oclif/core'
import {BaseCommand} from '../../src/base-command.js'
import {REPO_ROOT} from '../support/in-process.js'

const WORKFLOW = join(REPO_ROOT, 'docs/ci/github-actions.yml')

interface KnownCommand {
  /** Flag names and one-letter chars, each with whether it takes a value. */
  flags: Map<string, boolean>
}

type FlagDef = {type: string; char?: string; aliases?: string[]; allowNo?: boolean}

function flagsOf(command: typeof Command): Map<string, boolean> {
  const all: Record<string, FlagDef> = {...(BaseCommand.baseFlags as Record<string, FlagDef>), ...(command.flags as Record<string, FlagDef>)}
  const flags = new Map<string, boolean>([['json', false]])
  for (const [name, def] of Object.entries(all)) {
    const takesValue = def.type !== 'boolean'
    for (const spelling of [name, ...(def.aliases ?? []), ...(def.char ? [def.char] : [])]) flags.set(spelling, takesValue)
    if (def.allowNo) flags.set(`no-${name}`, false)
  }
  return flags
}

function commandFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) =>
    entry.isDirectory() ? commandFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

/** Every command of src/commands by its words ("create", "config set"), with its aliases. */
async function knownCommands(): Promise<Map<string, KnownCommand>> {
  const root = join(REPO_ROOT, 'src/commands')
  const known = new Map<string, KnownCommand>()
  for (const file of commandFiles(root)) {
    const words = relative(root, file)
      .replace(/\.ts$/, '')
      .split('/')
      .filter((w) => w !== 'index')
    const command = ((await import(file)) as {default: typeof Command}).default
    for (const id of [words.join(' '), ...(command.aliases ?? [])]) known.set(id, {flags: flagsOf(command)})
  }
  return known
}

interface Step {
  run?: string
}
interface Workflow {
  on: Record<string, unknown>
  jobs: Record<string, {steps: Step[]}>
}

/** The `demo …` command lines of every `run:` script, with GitHub expressions replaced by a plain word. */
function demoLines(workflow: Workflow): string[] {
  return Object.values(workflow.jobs)
    .flatMap((job) => job.steps.flatMap((step) => (step.run ?? '').split('\n')))
    .map((line) => line.replaceAll(/\$\{\{[^}]*\}\}/g, 'X').trim())
    .filter((line) => /^demo(\s|$)/.test(line))
}

/** What is wrong with one `demo …` line, or nothing. */
function problemsOf(line: string, known: Map<string, KnownCommand>): string[] {
  const words = line.split(/\s+/).slice(1)
  const positional = words.findIndex((w) => w.startsWith('-'))
  const head = positional === -1 ? words : words.slice(0, positional)
  const id = [head.slice(0, 2).join(' '), head[0] ?? ''].find((candidate) => known.has(candidate))
  if (!id) return [`${line}: no command "${head.join(' ')}"`]
  const {flags} = known.get(id)!
  const problems: string[] = []
  for (let i = 0; i < words.length; i++) {
    const match = /^--?([^=]+)(=.*)?$/.exec(words[i] ?? '')
    if (!match) continue
    const takesValue = flags.get(match[1]!)
    if (takesValue === undefined) problems.push(`${line}: \`demo ${id}\` has no flag ${words[i]}`)
    else if (takesValue && !match[2]) i += 1
  }
  return problems
}

describe('the example GitHub Actions workflow (docs/ci/github-actions.yml)', () => {
  const workflow = load(readFileSync(WORKFLOW, 'utf8')) as Workflow

  it('creates on pull_request, destroys on close and runs gc on a schedule', () => {
    assert.ok(workflow.on.pull_request && workflow.on.schedule)
    const lines = demoLines(workflow)
    for (const command of [/^demo create /, /^demo destroy .* --yes/, /^demo gc /, /^demo doctor/]) {
      assert.ok(
        lines.some((line) => command.test(line)),
        `no line matches ${command}`,
      )
    }
  })

  it('reads the outputs create writes to GITHUB_OUTPUT', () => {
    const text = readFileSync(WORKFLOW, 'utf8')
    for (const output of text.matchAll(/steps\.demo\.outputs\.([\w-]+)/g)) {
      assert.ok(['id', 'namespace', 'portal-url', 'candidate-url', 'expires-at'].includes(output[1]!), `create writes no output ${output[1]}`)
    }
  })

  it('uses only demo commands and flags that exist', async () => {
    const known = await knownCommands()
    const lines = demoLines(workflow)
    assert.ok(lines.length >= 4)
    assert.deepEqual(
      lines.flatMap((line) => problemsOf(line, known)),
      [],
    )
  })

  it('would catch a flag that does not exist (the check checks)', async () => {
    const known = await knownCommands()
    assert.deepEqual(problemsOf('demo create --type startup --colour', known), [
      'demo create --type startup --colour: `demo create` has no flag --colour',
    ])
    assert.deepEqual(problemsOf('demo launch --yes', known), ['demo launch --yes: no command "launch"'])
  })
})
