import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {extendDemo, type NamespaceExpiry} from '../core/extend-demo.js'
import {localTime, toDemoView, type DemoView} from '../render.js'
import {parseDuration} from '../core/duration.js'
import type {Demo} from '../core/demo.js'
import {clusterFlags, ownerFlag} from '../flags.js'

export default class Extend extends BaseCommand<typeof Extend> {
  static override summary = "Push a demo's expiry back by 1-4 hours."
  static override description =
    'Owner or admin only. Bounded by lifetime.maxLifetimeHours and lifetime.maxExtensions; refused for destroyed, failed or expired demos. Two extends at the same moment both count or one is refused; none is lost. Uses the kubeconfig context the demo was created in; an explicit --context must be that one.'
  static override examples = [
    '<%= config.bin %> extend k3x9a2bq --by 2h',
    '<%= config.bin %> extend k3x9a2bq --by 90m --json',
    '<%= config.bin %> extend sales-call --hours 1   # by --name, id prefix or namespace',
  ]
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (see `demo list`).', required: true})}
  static override flags = {
    by: Flags.string({
      description: 'How much to add: 2h, 90m, 1h30m (a bare number is hours); 1-4 h by default (lifetime.minExtendHours/maxExtendHours).',
      required: true,
      aliases: ['hours'],
      charAliases: ['H'],
      deprecateAliases: true,
    }),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<DemoView & {namespaceExpiryUpdated: boolean}> {
    const {deps, flags} = this
    const config = (await deps.config()).project
    const hours = parseDuration(flags.by, '--by') / 3_600_000
    deps.preloadClusterModules()
    const store = await deps.store()
    const {demo, namespaceExpiry} = await extendDemo(
      {
        store,
        clock: deps.clock,
        policy: config.lifetime,
        cluster: (demoContext) => deps.cluster({defaultContext: demoContext}),
        checkpoint: deps.checkpoint(),
      },
      {
        id: this.args.id,
        hours,
        actor: deps.identity().name,
        admins: config.admins,
        trustedIdentities: config.trustedIdentities,
        explicitContext: flags.context !== undefined,
      },
    )
    const view = toDemoView(demo, deps.clock.now())
    this.log(
      `Extended ${view.id}: now expires at ${localTime(demo.expiresAt)} (in ${view.expiresIn}); extension ${view.extensionCount} of ${config.lifetime.maxExtensions}.`,
    )
    this.reportNamespaceExpiry(demo, namespaceExpiry)
    return {...view, namespaceExpiryUpdated: namespaceExpiry.kind === 'moved'}
  }

  private reportNamespaceExpiry(demo: Demo, expiry: NamespaceExpiry): void {
    if (expiry.kind === 'namespace-gone') this.note(`Note: namespace ${demo.namespace} does not exist; only the state store was updated.`)
    if (expiry.kind !== 'not-updated') return
    this.note(
      `Warning: the state store says the demo now expires at ${localTime(demo.expiresAt)}, but the expiry annotations of namespace ${demo.namespace} could not be updated (${expiry.reason}). demo gc goes by the state store; kube-janitor, where the cluster runs it, would still use the old time.`,
    )
  }
}
