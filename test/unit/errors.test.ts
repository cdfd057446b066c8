import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {errorReport} from '../../src/base-command.js'
import * as errors from '../../src/core/errors.js'

const {ConflictError, DemoError, ExitCode, StateTransitionError, VersionConflictError} = errors

type DemoErrorClass = new (message: string) => errors.DemoError

/** Every error class src/core/errors.ts exports. */
function errorClasses(): DemoErrorClass[] {
  return (Object.values(errors) as unknown[]).filter(
    (value): value is DemoErrorClass => typeof value === 'function' && (value === DemoError || value.prototype instanceof DemoError),
  )
}

/** The rows of the first Markdown table after `heading` whose first column matches `key`, as [first cell, second cell]. */
function tableRows(markdown: string, heading: string, key: RegExp): [string, string][] {
  const start = markdown.indexOf(`\n${heading}\n`)
  assert.notEqual(start, -1, `README has no "${heading}" section`)
  const end = markdown.indexOf('\n## ', start + 1)
  const section = markdown.slice(start, end === -1 ? undefined : end)
  return section
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length >= 4 && key.test(cells[1] ?? ''))
    .map((cells) => [cells[1] ?? '', cells[2] ?? ''])
}

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('the README "Exit codes" section', () => {
  it('lists exactly the exit codes of ExitCode', () => {
    const listed = tableRows(readme, '## Exit codes', /^\d+$/).map(([code]) => Number(code))
    assert.deepEqual(
      listed.sort((a, b) => a - b),
      Object.values(ExitCode).sort((a, b) => a - b),
    )
  })

  it('lists every error code with its exit code, exactly as the error classes (and the fallback for other errors) have them', () => {
    const listed = tableRows(readme, '## Exit codes', /^`E_[A-Z_]+`$/).map(([code, exit]) => `${code.replaceAll('`', '')} → ${exit}`)
    const fromClasses = errorClasses().map((Class) => new Class('x'))
    const unexpected = errorReport(new Error('x'))
    const actual = [...fromClasses.map((e) => `${e.code} → ${e.exitCode}`), `${unexpected.code} → ${unexpected.exitCode}`]
    assert.deepEqual([...listed].sort(), [...actual].sort())
    assert.equal(new Set(listed).size, listed.length, 'a code is listed twice')
  })
})

describe('the error classes', () => {
  it('give each situation a code of its own', () => {
    const codes = errorClasses().map((Class) => new Class('x').code)
    assert.deepEqual(
      codes.filter((code, i) => codes.indexOf(code) !== i),
      [],
    )
  })

  it('make a version conflict a sibling of a refused status change, not a kind of it', () => {
    const conflict = new VersionConflictError('Demo "k3x9a2bq" was changed by another process.')
    assert.ok(conflict instanceof ConflictError)
    assert.ok(!(conflict instanceof StateTransitionError))
    assert.ok(!(new StateTransitionError('x') instanceof VersionConflictError))
  })

  it('keep a reached limit apart from conflicts', () => {
    assert.ok(!(new errors.LimitError('x') instanceof ConflictError))
  })

  it('name themselves after their class, for DEBUG output', () => {
    for (const Class of errorClasses()) assert.equal(new Class('x').name, Class.name)
  })
})
