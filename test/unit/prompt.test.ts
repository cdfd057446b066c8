import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'
import {terminalPrompt} from '../../src/adapters/prompt.js'

/** A stdin that says it is a terminal, and a stderr that collects the question. */
function aTerminal(): {stdin: PassThrough & {isTTY: boolean}; stderr: PassThrough; said: () => string} {
  const stdin = Object.assign(new PassThrough(), {isTTY: true})
  const stderr = new PassThrough()
  const chunks: Buffer[] = []
  stderr.on('data', (chunk: Buffer) => chunks.push(chunk))
  return {stdin, stderr, said: () => Buffer.concat(chunks).toString('utf8')}
}

describe('terminalPrompt (readline on a terminal)', () => {
  it('asks on stderr and takes "y" or "yes" as yes, anything else as no', async () => {
    for (const [typed, answer] of [
      ['y\r', 'yes'],
      ['YES\r', 'yes'],
      ['n\r', 'no'],
      ['\r', 'no'],
      ['maybe\r', 'no'],
    ] as const) {
      const terminal = aTerminal()
      const asked = terminalPrompt(terminal).confirm('Destroy demo abcdefgh?')
      terminal.stdin.write(typed)
      assert.equal(await asked, answer, JSON.stringify(typed))
      assert.match(terminal.said(), /Destroy demo abcdefgh\? \[y\/N\] /)
    }
  })

  it('Ctrl-C at the question is "cancelled", not an AbortError', async () => {
    const terminal = aTerminal()
    const asked = terminalPrompt(terminal).confirm('Destroy?')
    terminal.stdin.write('\u0003')
    assert.equal(await asked, 'cancelled')
  })

  it('the end of input (Ctrl-D) is "no"', async () => {
    const terminal = aTerminal()
    const asked = terminalPrompt(terminal).confirm('Destroy?')
    terminal.stdin.end()
    assert.equal(await asked, 'no')
  })

  it('an aborted signal (SIGTERM while asking) is "cancelled"', async () => {
    const terminal = aTerminal()
    const controller = new AbortController()
    const asked = terminalPrompt(terminal).confirm('Destroy?', controller.signal)
    controller.abort(new Error('interrupted by SIGTERM'))
    assert.equal(await asked, 'cancelled')
  })

  it('is not interactive when stdin is not a terminal', () => {
    assert.equal(terminalPrompt({stdin: new PassThrough(), stderr: new PassThrough()}).interactive, false)
  })
})
