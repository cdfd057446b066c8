import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {resetDemo} from '../core/reset-demo.js'
import {parseSeedValue} from '../core/seed-value.js'
import {toDemoView, type DemoView} from '../render.js'
import {clusterFlags, ownerFlag} from '../flags.js'

export default class Reset extends BaseCommand<typeof Reset> {
  static override summary = "Put a demo's data back to its freshly seeded state."
  static override description =
    "Empties the app's tables in the demo's schema and loads its seed again, in one transaction, with the seed value recorded at create (or --seed-value, which is then recorded). The services keep running; demo logins keep their passwords. Who may: as for destroy and extend (the creator's authenticated identity where recorded, an admin, a trusted identity); database.mode shared-schema; an event records it. Safe to repeat."
  static override examples = [
    '<%= config.bin %> reset k3x9a2bq',
    '<%= config.bin %> reset sales-call --seed-value 42   # re-seed differently',
    '<%= config.bin %> reset k3x --json',
  ]
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (see `demo list`).', required: true})}
  static override flags = {
    'seed-value': Flags.string({description: 'Re-seed from this seed value (a whole number) instead of the recorded one.'}),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<DemoView & {seedValue: number}> {
    const {deps, flags} = this
    const seedValue = flags['seed-value'] === undefined ? undefined : parseSeedValue(flags['seed-value'])
    const config = (await deps.config()).project
    const store = await deps.store()
    const {demo} = await resetDemo(
      {
        store,
        clock: deps.clock,
        clusterFor: (kubeContext) => deps.cluster({defaultContext: kubeContext}),
        databasesFor: (mode, recorded) => deps.databasesFor(mode, recorded),
      },
      {id: this.args.id, seedValue, actor: deps.identity().name, admins: config.admins, trustedIdentities: config.trustedIdentities},
    )
    const view = toDemoView(demo, deps.clock.now())
    this.log(`Reset ${view.id}: its data is the freshly seeded ${demo.demoType} data of seed value ${String(demo.seedValue)}.`)
    return {...view, seedValue: demo.seedValue ?? 0}
  }
}
