import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {DEFAULT_GC_NAMESPACE, parseInstallNamespace} from '../../core/gc-install-manifests.js'
import {describeRef, uninstallGc, type UninstallResult} from '../../core/install-gc.js'
import {clusterFlags} from '../../flags.js'

export default class GcUninstall extends BaseCommand<typeof GcUninstall> {
  static override summary = 'Remove what `demo gc install` made: the CronJobs, ServiceAccount, RBAC, admission policy and its namespace.'
  static override description = `Deletes exactly the objects that carry the label of the installation in --namespace (demo.splits.network/gc-installation=<namespace>), CronJobs first and the admission policy last. The namespace goes too when install created it, with everything in it, the database Secret included; --keep-namespace keeps it. A namespace that existed before install is never deleted. Idempotent: nothing left to delete is success. Demos are not touched.`
  static override examples = [
    '<%= config.bin %> gc uninstall',
    '<%= config.bin %> gc uninstall --namespace ops --keep-namespace',
    '<%= config.bin %> gc uninstall --dry-run --json',
  ]
  static override flags = {
    namespace: Flags.string({description: `Namespace of the installation. [default: ${DEFAULT_GC_NAMESPACE}]`}),
    'keep-namespace': Flags.boolean({
      description: 'Keep the namespace (and the Secret in it) even when install created it. [default: off]',
      default: false,
    }),
    'dry-run': Flags.boolean({description: 'List what would be deleted and change nothing. [default: off]', default: false}),
    ...clusterFlags,
  }

  async run(): Promise<UninstallResult> {
    const {flags} = this
    const namespace = parseInstallNamespace(flags.namespace ?? DEFAULT_GC_NAMESPACE)
    const result = await uninstallGc(await this.deps.installTarget(), {namespace, keepNamespace: flags['keep-namespace'], dryRun: flags['dry-run']})
    const verb = result.dryRun ? 'would delete' : 'deleted'
    for (const ref of result.deleted) this.log(`${verb}: ${describeRef(ref)}`)
    if (result.deleted.length === 0) this.log(`Nothing of demo gc is installed in namespace ${namespace}; nothing to do.`)
    return result
  }
}
