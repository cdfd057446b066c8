import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {destroyDemo, type DestroyOutcome} from '../core/destroy-demo.js'
import {parseDuration} from '../core/duration.js'
import {CancelledError, DemoError, UsageError} from '../core/errors.js'
import {findDemo} from '../core/find-demo.js'
import {clusterFlags, ownerFlag} from '../flags.js'
import {toDemoView, type DemoView} from '../render.js'

export default class Destroy extends BaseCommand<typeof Destroy> {
  static override summary = "Destroy a demo: delete its namespace, wait until it is gone, drop its database."
  static override aliases = ['rm', 'delete']
  static override description =
    'Owner or admin only. Idempotent: a demo that is already destroyed is success, and running it again after a timeout, a crash or --no-wait finishes the job. Deletes only a namespace that carries the demo\'s ownership marks.'
  static override examples = ['<%= config.bin %> destroy k3x9a2bq', '<%= config.bin %> destroy k3x9a2bq --yes --json   # in CI', '<%= config.bin %> destroy demo-k3x9a2bq   # by namespace, --name or id prefix']
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (see `demo list`).', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation (required when stdin is not a terminal).', default: false}),
    wait: Flags.boolean({description: 'Wait until the namespace is gone (--no-wait: return once deletion is accepted; the demo stays `destroying`).', default: true, allowNo: true}),
    timeout: Flags.string({description: 'How long to wait for the namespace to be gone, e.g. 300s, 10m.', default: '5m'}),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<{outcome: DestroyOutcome['kind']; demo: DemoView}> {
    const {deps, flags} = this
    const timeoutMs = parseDuration(flags.timeout, '--timeout', {bareNumber: 'refuse'})
    deps.preloadClusterModules()
    const store = await deps.store()
    const found = await findDemo(store, this.args.id, (id) => `demo destroy ${id}`)
    if (!flags.yes) await this.confirm(`${found.id} (${found.demoType}, namespace ${found.namespace}, owner ${found.createdBy})`)
    const cancel = deps.cancellation((message) => this.note(message))
    try {
      const {project} = await deps.config()
      const outcome = await destroyDemo(
        {store, cluster: await deps.cluster({defaultContext: found.kubeContext}), databasesFor: (mode) => deps.databasesFor(mode), clock: deps.clock, sleeper: deps.sleeper, steps: deps.steps(), checkpoint: deps.checkpoint(), signal: cancel.signal},
        {id: found.id, actor: deps.identity().name, admins: project.admins, wait: flags.wait, timeoutMs},
      )
      this.log(describeOutcome(outcome))
      return {outcome: outcome.kind, demo: toDemoView(outcome.demo, deps.clock.now())}
    } finally {
      cancel.dispose()
    }
  }

  private async confirm(what: string): Promise<void> {
    const hint = `Pass --yes: \`demo destroy ${this.args.id} --yes\`.`
    if (this.jsonEnabled()) throw new UsageError('Refusing to destroy without confirmation: --json needs --yes (there is no question to answer in JSON).', {hint})
    const prompt = this.deps.prompt()
    if (!prompt.interactive) throw new UsageError('Refusing to destroy without confirmation: stdin is not a terminal.', {hint})
    const answer = await prompt.confirm(`Destroy demo ${what}?`)
    if (answer === 'cancelled') throw new CancelledError('Cancelled; nothing was changed.')
    if (answer === 'no') throw new DemoError('Not destroyed: not confirmed.', {hint: 'Nothing was changed; pass --yes to skip the question.'})
  }
}

function describeOutcome(outcome: DestroyOutcome): string {
  const {demo} = outcome
  switch (outcome.kind) {
    case 'already-destroyed':
      return `Demo ${demo.id} was already destroyed${demo.destroyedAt ? ` at ${demo.destroyedAt.toISOString()}` : ''}; nothing to do.`
    case 'deleting':
      return `Deletion of namespace ${demo.namespace} accepted; demo ${demo.id} stays destroying until it is gone. Run \`demo destroy ${demo.id}\` again to wait and finish.`
    case 'destroyed':
      return outcome.namespaceDeleted
        ? `Destroyed demo ${demo.id}: namespace ${demo.namespace} is gone.`
        : `Destroyed demo ${demo.id}: namespace ${demo.namespace} was already gone.`
  }
}
