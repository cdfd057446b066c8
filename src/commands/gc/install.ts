import {Flags} from '@oclif/core'
import {dump} from 'js-yaml'
import {BaseCommand} from '../../base-command.js'
import {parseCronSchedule} from '../../core/cron.js'
import {
  DEFAULT_GC_NAMESPACE,
  DEFAULT_GC_SCHEDULE,
  DEFAULT_HEALTH_SCHEDULE,
  parseDatabaseSecret,
  parseImage,
  parseInstallNamespace,
  renderGcInstall,
  type GcInstallOptions,
} from '../../core/gc-install-manifests.js'
import {describeRef, installGc, type InstallResult} from '../../core/install-gc.js'
import type {Manifest} from '../../core/ports.js'
import {clusterFlags} from '../../flags.js'

/** The image the release publishes for this version (README "Container image"); --image or DEMO_IMAGE for your own build. */
export const IMAGE_REPOSITORY = 'ghcr.io/splits-network/demo-cli'

export default class GcInstall extends BaseCommand<typeof GcInstall> {
  static override summary = 'Install the gc CronJob in the current cluster: namespace, least-privilege ServiceAccount, admission policy, CronJob.'
  static override description = `Applies, server-side as field manager demo-cli, to the cluster of the current context (or --context): a Namespace (--namespace), a ServiceAccount, a ClusterRole with only the calls gc, destroy and health make, its binding, a ValidatingAdmissionPolicy that lets that ServiceAccount delete or change only namespaces carrying a demo's ownership marks, and a CronJob running \`demo gc --json\` (with --health also one running \`demo health --all --json\`). DEMO_DATABASE_URL comes from the Secret --database-secret names, in the same namespace.
Idempotent: running it again converges every object. Refuses, before writing anything, when an object of the same name exists that it did not make. --dry-run prints the YAML and needs no cluster.`
  static override examples = [
    '<%= config.bin %> gc install --database-secret demo-state/url',
    '<%= config.bin %> gc install --database-secret demo-state/url --image registry.example.com/demo-cli:0.1.0 --schedule "*/10 * * * *" --health',
    '<%= config.bin %> gc install --database-secret demo-state/url --dry-run > demo-gc.yaml',
  ]
  static override flags = {
    'database-secret': Flags.string({
      description: 'Secret (in --namespace) and key holding the state database URL, as <name>/<key>; the CronJob gets it as DEMO_DATABASE_URL.',
      required: true,
    }),
    namespace: Flags.string({
      description: `Namespace of the CronJob and its ServiceAccount (created if missing). [default: ${DEFAULT_GC_NAMESPACE}]`,
    }),
    image: Flags.string({
      description: `Container image of demo (see README "Container image"). [default: ${IMAGE_REPOSITORY}:<this version>]`,
      env: 'DEMO_IMAGE',
    }),
    schedule: Flags.string({description: `Cron schedule of \`demo gc\`, in UTC. [default: "${DEFAULT_GC_SCHEDULE}"]`}),
    health: Flags.boolean({description: 'Also install a CronJob running `demo health --all --json`. [default: off]', default: false}),
    'health-schedule': Flags.string({description: `Cron schedule of \`demo health\` with --health, in UTC. [default: "${DEFAULT_HEALTH_SCHEDULE}"]`}),
    'dry-run': Flags.boolean({
      description: 'Print the YAML that would be applied and change nothing (no cluster needed). [default: off]',
      default: false,
    }),
    ...clusterFlags,
  }

  async run(): Promise<InstallResult | {manifests: Manifest[]}> {
    const options = this.installOptions()
    const manifests = renderGcInstall(options)
    if (this.flags['dry-run']) {
      this.log(manifests.map((m) => dump(m, {noRefs: true, lineWidth: -1})).join('---\n'))
      this.note(`Dry run: ${manifests.length} objects for namespace ${options.namespace}; nothing was applied.`)
      return {manifests}
    }
    const result = await installGc(await this.deps.installTarget(), manifests, options)
    for (const o of result.objects) this.log(`${o.action === 'applied' ? 'applied' : 'kept (exists, not ours)'}: ${describeRef(o)}`)
    for (const warning of result.warnings) this.warn(warning)
    return result
  }

  /** Every flag checked before the cluster is touched: bad input is exit 2 with nothing applied. */
  private installOptions(): GcInstallOptions {
    const {flags} = this
    return {
      namespace: parseInstallNamespace(flags.namespace ?? DEFAULT_GC_NAMESPACE),
      image: parseImage(flags.image ?? `${IMAGE_REPOSITORY}:${this.config.version}`),
      schedule: parseCronSchedule(flags.schedule ?? DEFAULT_GC_SCHEDULE, '--schedule'),
      databaseSecret: parseDatabaseSecret(flags['database-secret']),
      healthSchedule: flags.health ? parseCronSchedule(flags['health-schedule'] ?? DEFAULT_HEALTH_SCHEDULE, '--health-schedule') : null,
    }
  }
}
