import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {assertValidId} from '../core/naming.js'
import {extendDemo} from '../core/extend-demo.js'
import {toDemoView, type DemoView} from '../render.js'

export default class Extend extends BaseCommand<typeof Extend> {
  static override summary = "Push a demo's expiry back by 1-4 hours."
  static override description =
    'Owner or admin only. Bounded by lifetime.maxLifetimeHours and lifetime.maxExtensions; refused for destroyed, failed or expired demos. Two extends at the same moment both count or one is refused; none is lost.'
  static override examples = ['<%= config.bin %> extend k3x9a2bq --hours 2', '<%= config.bin %> extend k3x9a2bq --hours 1 --json']
  static override args = {id: Args.string({description: 'Demo id.', required: true})}
  static override flags = {
    hours: Flags.string({char: 'H', description: 'Hours to add (1-4 by default; fractions allowed).', required: true}),
    owner: Flags.string({description: 'Act as this identity (default: DEMO_USER, CI actor, git email, OS user).', env: 'DEMO_OWNER'}),
  }

  async run(): Promise<DemoView> {
    assertValidId(this.args.id)
    const {deps} = this
    const config = deps.config().project
    const demo = await extendDemo(
      {store: await deps.store(), clock: deps.clock, policy: config.lifetime},
      {id: this.args.id, hours: Number(this.flags.hours), actor: deps.identity().name, admins: config.admins},
    )
    const view = toDemoView(demo, deps.clock.now())
    this.log(`Extended ${view.id}: now expires at ${view.expiresAt} (in ${view.expiresIn}); extension ${view.extensionCount} of ${config.lifetime.maxExtensions}.`)
    return view
  }
}
