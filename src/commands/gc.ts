import {Errors, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {alertWebhookFrom, postAlert, webhookNotifier, type AlertWebhook} from '../adapters/alert-webhook.js'
import {parseDuration} from '../core/duration.js'
import {DemoError, GcBrakeError, GcIncompleteError, StoreUnavailableError, UsageError} from '../core/errors.js'
import type {Cluster, DemoStore} from '../core/ports.js'
import {emptyReport, runGc, type GcReport, type GcRequest} from '../core/run-gc.js'
import {clusterFlags} from '../flags.js'
import {alertText, gcLines, gcSummary, noticeText, noticeWarnings} from '../render-gc.js'

const DEFAULT_DESTROY_WAIT = '5m'

export default class Gc extends BaseCommand<typeof Gc> {
  static override summary = 'Destroy expired demos, finish broken destroys and creates, and delete orphans of the connected cluster.'
  static override description = `Reads the state store and the cluster first, plans one action per demo or object (each with its reason), then acts with bounded concurrency; every destroy takes the path of \`demo destroy\` and is recorded with actor "gc". Acts only on demos of the cluster it is connected to (by the UID of kube-system), and only on objects with our ownership marks. Safety brake (exit 3, nothing deleted): a read fails, the cluster lists no namespace while live demos need one, or more deletions are planned than gc.maxDeletions (default 20) or --max-deletions. Demos with auto_cleanup off are only reported. With an alert webhook, demos expiring within 30 minutes get one \"expiring soon\" notice each (recorded as an expiry-notice event; a failed notice is a warning, not a failure). Safe to run twice at once: each demo is claimed by compare-and-set, and the other run reports it skipped. Exit 0 when all done, 1 when some action failed, 3 when the brake engaged.`
  static override examples = [
    '<%= config.bin %> gc --dry-run   # print the plan, change nothing',
    '<%= config.bin %> gc --json      # what the CronJob runs',
    '<%= config.bin %> gc --max-deletions 60 --concurrency 8',
  ]
  static override flags = {
    'dry-run': Flags.boolean({description: 'Print the plan and change nothing.', default: false}),
    'max-deletions': Flags.integer({
      description: 'Allow up to this many deletions in this run (default: gc.maxDeletions, 20); a plan over it deletes nothing.',
      min: 0,
    }),
    concurrency: Flags.integer({description: 'Actions run at once.', default: 4, min: 1, max: 64}),
    'wait-timeout': Flags.string({
      description: `How long each destroy waits for its namespace to be gone (default: ${DEFAULT_DESTROY_WAIT}). With a unit: 300s, 10m.`,
    }),
    ...clusterFlags,
  }

  async run(): Promise<GcReport> {
    const {deps, flags} = this
    const {project} = await deps.config()
    const webhook = alertWebhookFrom(deps.env, project.gc.alertWebhook)
    const graceMs = project.gc.graceMinutes * 60_000
    const request: GcRequest = {
      dryRun: flags['dry-run'],
      policy: {
        creatingTimeoutMs: project.wait.timeoutSeconds * 1000 + graceMs,
        orphanGraceMs: graceMs,
        maxDeletions: flags['max-deletions'] ?? project.gc.maxDeletions,
      },
      concurrency: flags.concurrency,
      destroyTimeoutMs: parseDuration(flags['wait-timeout'] ?? DEFAULT_DESTROY_WAIT, '--wait-timeout', {bareNumber: 'refuse'}),
      configuredMode: project.database.mode,
      runId: `${process.pid}@${deps.clock.now().toISOString()}`,
    }
    deps.preloadClusterModules()
    const report = await this.collect(request, webhook)
    this.deps.io.stderr.write(gcLines(report, {tty: this.deps.io.stderr.isTTY === true, columns: this.deps.io.stderr.columns}))
    for (const warning of noticeWarnings(report)) this.warn(warning)
    await this.alert(webhook, report)
    if (report.brake) throw this.printed(new GcBrakeError(`gc deleted nothing: ${report.brake.reason}.`, {hint: brakeHint(report)}), report)
    if (report.failed.length > 0) {
      throw this.printed(
        new GcIncompleteError(`gc: ${gcSummary(report)}.`, {
          hint: 'See the failed actions above (or `failed` in --json); run `demo gc` again once fixed.',
        }),
        report,
      )
    }
    return report
  }

  /**
   * With the embedded store, first waits for any other gc run to finish (Deps.exclusiveGcRun; the brake when it
   * does not within 10 minutes). Then opens the store and the cluster (a failure there engages the brake, unless
   * it is a usage error), and runs gc.
   */
  private async collect(request: GcRequest, webhook: AlertWebhook | undefined): Promise<GcReport> {
    const {deps} = this
    let release: () => void
    try {
      release = request.dryRun ? () => {} : await deps.exclusiveGcRun()
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      return brakeReport(request, deps.clock.now(), error.message.replace(/\.$/, ''))
    }
    try {
      return await this.collectLocked(request, webhook)
    } finally {
      release()
    }
  }

  private async collectLocked(request: GcRequest, webhook: AlertWebhook | undefined): Promise<GcReport> {
    const {deps} = this
    let store: DemoStore
    let cluster: Cluster
    try {
      ;[store, cluster] = await Promise.all([deps.store(), deps.cluster()])
    } catch (error) {
      if (error instanceof UsageError) throw error
      return brakeReport(request, deps.clock.now(), `could not connect: ${error instanceof Error ? error.message : String(error)}`)
    }
    const cancel = deps.cancellation((message) => this.note(message))
    try {
      return await runGc(
        {
          store,
          cluster,
          databasesFor: (mode, recorded) => deps.databasesFor(mode, recorded),
          notifier: webhook && webhookNotifier(webhook, noticeText, {sleeper: deps.sleeper}),
          clock: deps.clock,
          sleeper: deps.sleeper,
          steps: {run: (_title, step) => step(() => {})},
          checkpoint: deps.checkpoint(),
          signal: cancel.signal,
        },
        request,
      )
    } finally {
      cancel.dispose()
    }
  }

  /** One POST per run that failed or braked; the URL is never printed. */
  private async alert(webhook: AlertWebhook | undefined, report: GcReport): Promise<void> {
    if (!webhook || (!report.brake && report.failed.length === 0) || report.dryRun) return
    const sent = await postAlert(webhook, {text: alertText(report)}, {sleeper: this.deps.sleeper})
    this.deps.io.stderr.write(`Alert: ${sent.detail}.\n`)
  }

  /** The report goes to stdout with --json also when the run ends in an error (the error itself then only on stderr). */
  private printed(error: DemoError, report: GcReport): DemoError {
    if (this.jsonEnabled()) {
      this.logJson(report)
      this.reportPrinted = true
    }
    return error
  }

  private reportPrinted = false

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (this.reportPrinted && error instanceof DemoError) {
      this.deps.io.stderr.write(`Error: ${error.message}\n${error.hint ? `Hint: ${error.hint}\n` : ''}`)
      return Errors.exit(error.exitCode)
    }
    return super.catch(error)
  }
}

function brakeHint(report: GcReport): string {
  if (report.brake?.reason.startsWith('the plan deletes')) return 'Review the plan with `demo gc --dry-run`, then allow it with --max-deletions.'
  if (report.brake?.reason.startsWith('Another demo gc'))
    return 'Run `demo gc` again once the other run has finished (or end it); nothing was changed.'
  return 'Fix what the message names (state store, cluster, kubeconfig), then run `demo gc` again; nothing was changed.'
}

function brakeReport(request: GcRequest, now: Date, reason: string): GcReport {
  return {...emptyReport(request, now), brake: {reason}}
}
