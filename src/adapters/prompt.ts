import {createInterface} from 'node:readline/promises'
import type {IO} from '../deps.js'

/** What the person answered: yes, no (anything else, or end of input), or cancelled with Ctrl-C. */
export type Answer = 'yes' | 'no' | 'cancelled'

/** Questions to the person at the terminal. */
export interface Prompt {
  /** Whether there is a person to ask: stdin is a terminal. */
  readonly interactive: boolean
  /** Asks a yes/no question on stderr; only "y" or "yes" is yes. An abort of `signal` (SIGTERM ...) answers 'cancelled'. */
  confirm(question: string, signal?: AbortSignal): Promise<Answer>
}

/** readline on the command's stdin, the question on stderr (stdout stays data). */
export function terminalPrompt(io: Pick<IO, 'stdin' | 'stderr'>): Prompt {
  return {
    interactive: io.stdin.isTTY === true,
    async confirm(question, signal) {
      if (signal?.aborted) return 'cancelled'
      const prompt = createInterface({input: io.stdin, output: io.stderr, terminal: io.stdin.isTTY === true})
      // The command's cancellation is already listening (SIGTERM, SIGHUP): the question must not outlive it.
      const aborted = new Promise<Answer>((resolve) => signal?.addEventListener('abort', () => resolve('cancelled'), {once: true}))
      // Ctrl-C at the prompt: readline rejects the question with an AbortError (and Node would otherwise exit 1).
      const cancelled = new Promise<Answer>((resolve) => prompt.once('SIGINT', () => resolve('cancelled')))
      const ended = new Promise<Answer>((resolve) => prompt.once('close', () => resolve('no')))
      try {
        const answer = prompt.question(`${question} [y/N] `).then((text): Answer => (/^y(es)?$/i.test(text.trim()) ? 'yes' : 'no'))
        return await Promise.race([answer, cancelled, ended, aborted])
      } finally {
        prompt.close()
      }
    },
  }
}
