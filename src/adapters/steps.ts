import type {StepRunner} from '../core/ports.js'

export interface StepOutput {
  /** Where progress goes: stderr, so stdout stays data (`--json | jq` always works). */
  stream: NodeJS.WritableStream & {isTTY?: boolean}
  /** false = nothing at all (tests, --quiet). */
  enabled: boolean
}

/**
 * Progress of a use case on stderr with listr2: a spinner per step with its duration on a TTY, one line per
 * finished step otherwise (CI logs). listr2 is imported on the first step, so commands that never run a
 * step do not load it.
 */
export function listrSteps(output: StepOutput): StepRunner {
  return {
    async run<T>(title: string, step: (report: (message: string) => void) => Promise<T>): Promise<T> {
      if (!output.enabled) return step(() => {})
      const {Listr, ListrLogger, PRESET_TIMER, ProcessOutput} = await import('listr2')
      // listr2 types its output as a tty.WriteStream but only writes to it and reads isTTY/columns.
      const stream = output.stream as NodeJS.WriteStream
      const logger = new ListrLogger({processOutput: new ProcessOutput(stream, stream)})
      let result: T | undefined
      const list = new Listr(
        [
          {
            title,
            task: async (_context, task) => {
              result = await step((message) => {
                task.output = message
              })
            },
          },
        ],
        {
          renderer: 'default',
          fallbackRenderer: 'simple',
          fallbackRendererCondition: !output.stream.isTTY,
          rendererOptions: {logger, timer: PRESET_TIMER, collapseErrors: false, showErrorMessage: false},
          fallbackRendererOptions: {logger, timer: PRESET_TIMER},
          exitOnError: true,
          registerSignalListeners: false,
        },
      )
      await list.run()
      return result as T
    },
  }
}
