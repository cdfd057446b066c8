import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {parseDuration} from '../core/duration.js'
import {waitForDemo, type WaitOutcome} from '../core/wait-demo.js'
import {clusterFlags, ownerFlag} from '../flags.js'
import {toDemoView, type DemoView} from '../render.js'

export default class Wait extends BaseCommand<typeof Wait> {
  static override summary = 'Finish what --no-wait left: wait until a creating demo is ready, or a destroying one is destroyed.'
  static override description =
    'A creating demo: waits until every Deployment is Available and marks it ready; if it does not come up in time (or cannot: quota, image, crash) it is rolled back and marked failed, as `demo create` does. A destroying demo: waits until its namespace is gone, drops its database and marks it destroyed (owner or admin). A demo already ready or destroyed: exits 0 at once. Ctrl-C stops waiting and changes nothing. This is what CI runs between steps.'
  static override examples = [
    '<%= config.bin %> create --no-wait --json | jq -r .id   # then, later:',
    '<%= config.bin %> wait k3x9a2bq --timeout 10m',
    '<%= config.bin %> destroy k3x9a2bq --yes --no-wait && <%= config.bin %> wait k3x9a2bq',
  ]
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (see `demo list`).', required: true})}
  static override flags = {
    timeout: Flags.string({description: 'How long to wait, with a unit: 300s, 10m. (default: wait.timeoutSeconds, 300s)', aliases: ['wait-timeout']}),
    'keep-on-failure': Flags.boolean({
      description: 'If a creating demo does not come up, keep its namespace for debugging (the demo is still marked failed).',
    }),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<DemoView & {outcome: WaitOutcome['kind']}> {
    const {deps, flags} = this
    const {project} = await deps.config()
    const timeoutMs =
      flags.timeout === undefined ? project.wait.timeoutSeconds * 1000 : parseDuration(flags.timeout, '--timeout', {bareNumber: 'refuse'})
    deps.preloadClusterModules()
    const store = await deps.store()
    const cancel = deps.cancellation((message) => this.note(message))
    try {
      const outcome = await waitForDemo(
        {
          store,
          clusterFor: (kubeContext) => deps.cluster({defaultContext: kubeContext}),
          databasesFor: (mode, recorded) => deps.databasesFor(mode, recorded),
          config: project,
          templates: await deps.templates(),
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
          timeoutMs,
          keepOnFailure: flags['keep-on-failure'],
        },
      )
      this.log(describeOutcome(outcome))
      return {...toDemoView(outcome.demo, deps.clock.now()), outcome: outcome.kind}
    } finally {
      cancel.dispose()
    }
  }
}

function describeOutcome(outcome: WaitOutcome): string {
  const {demo} = outcome
  switch (outcome.kind) {
    case 'already':
      return `Demo ${demo.id} is already ${demo.status}; nothing to wait for.`
    case 'ready':
      return `Demo ${demo.id} is ready (${demo.phaseTimings.total ?? '?'}s since it was created): ${demo.portalUrl}`
    case 'destroyed':
      return `Demo ${demo.id} is destroyed: namespace ${demo.namespace} ${outcome.namespaceDeleted ? 'is gone' : 'was already gone'}.`
  }
}
