import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {assertValidId} from '../core/naming.js'
import {extendDemo} from '../core/extend-demo.js'
import {toDemoView, type DemoView} from '../render.js'
import {parseDuration} from '../core/duration.js'
import type {Demo} from '../core/demo.js'
import {clusterFlags, ownerFlag} from '../flags.js'

export default class Extend extends BaseCommand<typeof Extend> {
  static override summary = "Push a demo's expiry back by 1-4 hours."
  static override description =
    'Owner or admin only. Bounded by lifetime.maxLifetimeHours and lifetime.maxExtensions; refused for destroyed, failed or expired demos. Two extends at the same moment both count or one is refused; none is lost.'
  static override examples = ['<%= config.bin %> extend k3x9a2bq --hours 2', '<%= config.bin %> extend k3x9a2bq --hours 1 --json']
  static override args = {id: Args.string({description: 'Demo id.', required: true})}
  static override flags = {
    hours: Flags.string({char: 'H', description: 'Hours to add, 1-4 by default: 2, 1.5, 90m or 2h.', required: true}),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<DemoView & {namespaceExpiryUpdated: boolean}> {
    assertValidId(this.args.id)
    const {deps} = this
    const config = (await deps.config()).project
    deps.preloadClusterModules()
    const demo = await extendDemo(
      {store: await deps.store(), clock: deps.clock, policy: config.lifetime},
      {id: this.args.id, hours: parseDuration(this.flags.hours, '--hours') / 3_600_000, actor: deps.identity().name, admins: config.admins},
    )
    const view = toDemoView(demo, deps.clock.now())
    this.log(`Extended ${view.id}: now expires at ${view.expiresAt} (in ${view.expiresIn}); extension ${view.extensionCount} of ${config.lifetime.maxExtensions}.`)
    return {...view, namespaceExpiryUpdated: await this.moveNamespaceExpiry(demo)}
  }

  /**
   * The row is the truth for demo gc; the namespace's expiry annotations are for kube-janitor. A cluster
   * that does not answer does not undo the extend: it is reported, and the exit code stays 0.
   */
  private async moveNamespaceExpiry(demo: Demo): Promise<boolean> {
    try {
      const cluster = await this.deps.cluster({defaultContext: demo.kubeContext})
      const moved = await cluster.setExpiry({demoId: demo.id, namespace: demo.namespace}, demo.expiresAt)
      if (!moved) this.note(`Note: namespace ${demo.namespace} does not exist; only the state store was updated.`)
      return moved
    } catch (error) {
      this.note(
        `Warning: the state store says the demo now expires at ${demo.expiresAt.toISOString()}, but the expiry annotations of namespace ${demo.namespace} could not be updated (${error instanceof Error ? error.message : String(error)}). demo gc goes by the state store; kube-janitor, where the cluster runs it, would still use the old time.`,
      )
      return false
    }
  }
}
