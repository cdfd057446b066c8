import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {Demo} from '../core/demo.js'
import {destroyDemo, type DestroyOutcome} from '../core/destroy-demo.js'
import {parseDuration} from '../core/duration.js'
import {CancelledError, DemoError, UsageError} from '../core/errors.js'
import {clusterFlags, ownerFlag, waitFlag, waitTimeoutFlag} from '../flags.js'
import {localTime, toDemoView, type DemoView} from '../render.js'

/** How long destroy waits for the namespace to be gone unless --wait-timeout says otherwise. */
const DEFAULT_WAIT = '5m'

export default class Destroy extends BaseCommand<typeof Destroy> {
  static override summary = 'Destroy a demo: delete its namespace, wait until it is gone, drop its database.'
  static override aliases = ['rm', 'delete']
  static override description =
    "Owner or admin only. Idempotent: a demo that is already destroyed is success, and running it again after a timeout, a crash or --no-wait finishes the job. Deletes only a namespace that carries the demo's ownership marks."
  static override examples = [
    '<%= config.bin %> destroy k3x9a2bq',
    '<%= config.bin %> destroy k3x9a2bq --yes --json   # in CI',
    '<%= config.bin %> destroy demo-k3x9a2bq   # by namespace, --name or id prefix',
  ]
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (see `demo list`).', required: true})}
  static override flags = {
    yes: Flags.boolean({
      char: 'y',
      description: 'Do not ask for confirmation (required when stdin is not a terminal, and with --json). [default: ask]',
      default: false,
    }),
    wait: waitFlag('Wait until the namespace is gone (--no-wait: return once deletion is accepted; the demo stays `destroying`).'),
    'wait-timeout': waitTimeoutFlag({description: `How long to wait for the namespace to be gone (default: ${DEFAULT_WAIT}).`, aliases: ['timeout']}),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<DemoView & {outcome: DestroyOutcome['kind']}> {
    const {deps, flags} = this
    const timeoutMs = parseDuration(flags['wait-timeout'] ?? DEFAULT_WAIT, '--wait-timeout', {bareNumber: 'refuse'})
    deps.preloadClusterModules()
    const store = await deps.store()
    const {project} = await deps.config()
    const cancel = deps.cancellation((message) => this.note(message))
    try {
      const outcome = await destroyDemo(
        {
          store,
          clusterFor: (kubeContext) => deps.cluster({defaultContext: kubeContext}),
          confirm: flags.yes ? undefined : (demo) => this.confirm(demo, cancel.signal),
          databasesFor: (mode, recorded) => deps.databasesFor(mode, recorded),
          clock: deps.clock,
          sleeper: deps.sleeper,
          steps: deps.steps(),
          checkpoint: deps.checkpoint(),
          signal: cancel.signal,
        },
        {
          id: this.args.id,
          actor: deps.identity().name,
          admins: project.admins,
          trustedIdentities: project.trustedIdentities,
          wait: flags.wait,
          timeoutMs,
        },
      )
      this.log(describeOutcome(outcome))
      return {...toDemoView(outcome.demo, deps.clock.now()), outcome: outcome.kind}
    } finally {
      cancel.dispose()
    }
  }

  private async confirm(demo: Demo, signal: AbortSignal): Promise<void> {
    const hint = `Pass --yes: \`demo destroy ${this.args.id} --yes\`.`
    if (this.jsonEnabled())
      throw new UsageError('Refusing to destroy without confirmation: --json needs --yes (there is no question to answer in JSON).', {hint})
    const prompt = this.deps.prompt()
    if (!prompt.interactive) throw new UsageError('Refusing to destroy without confirmation: stdin is not a terminal.', {hint})
    const answer = await prompt.confirm(`Destroy demo ${demo.id} (${demo.demoType}, namespace ${demo.namespace}, owner ${demo.createdBy})?`, signal)
    if (answer === 'cancelled') throw new CancelledError('Cancelled; nothing was changed.')
    if (answer === 'no') throw new DemoError('Not destroyed: not confirmed.', {hint: 'Nothing was changed; pass --yes to skip the question.'})
  }
}

function describeOutcome(outcome: DestroyOutcome): string {
  const {demo} = outcome
  switch (outcome.kind) {
    case 'already-destroyed':
      return `Demo ${demo.id} was already destroyed${demo.destroyedAt ? ` at ${localTime(demo.destroyedAt)}` : ''}; nothing to do.`
    case 'deleting':
      return `Deletion of namespace ${demo.namespace} accepted; demo ${demo.id} stays destroying until it is gone. Run \`demo destroy ${demo.id}\` again to wait and finish.`
    case 'destroyed':
      return outcome.namespaceDeleted
        ? `Destroyed demo ${demo.id}: namespace ${demo.namespace} is gone.`
        : `Destroyed demo ${demo.id}: namespace ${demo.namespace} was already gone.`
  }
}
