import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {colorStatus, makeChalk} from '../colors.js'
import {
  checkAllHealth,
  checkDemoHealth,
  demoHealthUrls,
  worstResult,
  type DemoHealth,
  type HealthCheck,
  type HealthResult,
} from '../core/check-health.js'
import {parseDuration} from '../core/duration.js'
import {ConflictError, ExitCode, UsageError} from '../core/errors.js'
import {findDemo} from '../core/find-demo.js'
import {clusterFlags} from '../flags.js'
import {table} from '../render.js'

const MAX_CONCURRENCY = 50

export interface HealthReport {
  result: HealthResult
  demos: Array<{
    id: string
    namespace: string
    status: string
    result: HealthResult
    change: DemoHealth['change']
    checks: HealthCheck[]
  }>
}

const EXIT_CODES: Record<HealthResult, number> = {healthy: ExitCode.ok, degraded: ExitCode.degraded, unhealthy: ExitCode.unhealthy}

export default class Health extends BaseCommand<typeof Health> {
  static override summary = 'Check a demo (or every live one): namespace, Deployments, database, URLs; mark it degraded or recovered.'
  static override description = `Each check has its own result (healthy, degraded, unhealthy; skipped; unknown when it could not be made) and says why. The demo's result is its worst check. A ready demo with a problem becomes degraded, a degraded demo with none becomes ready again, each with an event saying what changed; creating, destroying and gone demos are never changed, nor is a demo with a check that could not be made. Exit code: 0 healthy, ${ExitCode.degraded} degraded, ${ExitCode.unhealthy} unhealthy (the worst demo with --all).`
  static override examples = [
    '<%= config.bin %> health k3x9a2bq',
    '<%= config.bin %> health --all --concurrency 10 --json   # what the CronJob runs',
    '<%= config.bin %> health k3x9a2bq --no-urls',
  ]
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (or --all).', required: false})}
  static override flags = {
    all: Flags.boolean({description: 'Check every ready or degraded demo (not with an id).', default: false}),
    urls: Flags.boolean({description: 'GET each URL (portal, candidate) at its service health path. [default: on]', default: true, allowNo: true}),
    'url-timeout': Flags.string({description: 'How long each URL may take to answer, with a unit. [default: 5s]', default: '5s'}),
    concurrency: Flags.integer({description: `Demos checked at a time with --all (1-${MAX_CONCURRENCY}).`, default: 5}),
    ...clusterFlags,
  }

  async run(): Promise<HealthReport> {
    const {deps, flags} = this
    this.assertTarget()
    const urlTimeoutMs = parseDuration(flags['url-timeout'], '--url-timeout', {bareNumber: 'refuse'})
    const store = await deps.store()
    const {project} = await deps.config()
    const healthDeps = {
      store,
      clusterFor: (kubeContext: string | null) => deps.cluster({defaultContext: kubeContext}),
      databasesFor: (...args: Parameters<typeof deps.databasesFor>) => deps.databasesFor(...args),
      prober: await deps.urlProber(),
      clock: deps.clock,
    }
    const options = {
      urls: flags.urls ? (demo: Parameters<typeof demoHealthUrls>[1]) => demoHealthUrls(project.services, demo) : () => [],
      urlTimeoutMs,
      actor: deps.identity().name,
    }
    const healths = flags.all
      ? await checkAllHealth(healthDeps, {...options, concurrency: flags.concurrency})
      : [await checkDemoHealth(healthDeps, await this.demoToCheck(store), options)]
    const report = toReport(healths)
    this.log(healths.length === 0 ? 'No ready or degraded demos to check.' : this.render(healths))
    this.resultExitCode = EXIT_CODES[report.result] || undefined
    return report
  }

  private assertTarget(): void {
    const {flags, args} = this
    if (flags.all && args.id)
      throw new UsageError(`Give a demo id or --all, not both (got "${args.id}" and --all).`, {
        hint: 'Run `demo health --all`, or `demo health <id>`.',
      })
    if (!flags.all && !args.id)
      throw new UsageError('Which demo? Give its id, or --all for every live demo.', {hint: 'Run `demo health <id>` or `demo health --all`.'})
    if (flags.concurrency < 1 || flags.concurrency > MAX_CONCURRENCY) {
      throw new UsageError(`--concurrency must be between 1 and ${MAX_CONCURRENCY}, got ${flags.concurrency}.`, {hint: 'Try --concurrency 5.'})
    }
  }

  private async demoToCheck(store: Awaited<ReturnType<typeof this.deps.store>>) {
    const demo = await findDemo(store, this.args.id ?? '', (id) => `demo health ${id}`)
    if (demo.status === 'destroyed' || demo.status === 'failed') {
      throw new ConflictError(`Cannot check the health of demo "${demo.id}": it is ${demo.status}.`, {
        hint: demo.status === 'failed' ? `See why with \`demo get ${demo.id}\`.` : 'Create a new demo with `demo create`.',
      })
    }
    return demo
  }

  private render(healths: DemoHealth[]): string {
    const chalk = makeChalk(this.deps.env, this.deps.io.stdout)
    return healths
      .map((h) => {
        const rows = h.checks.map((c) => [c.name, colorStatus(chalk, c.result), c.detail])
        return [`${h.demo.id}  ${colorStatus(chalk, h.result)}  (${changeText(h)})`, table(['CHECK', 'RESULT', 'DETAIL'], rows)].join('\n')
      })
      .join('\n\n')
  }
}

function changeText(health: DemoHealth): string {
  const {change} = health
  if (change.kind === 'degraded') return 'marked degraded'
  if (change.kind === 'recovered') return 'recovered: marked ready'
  return change.note ?? `status ${health.demo.status}`
}

function toReport(healths: DemoHealth[]): HealthReport {
  return {
    result: worstResult(healths.map((h) => h.result)),
    demos: healths.map((h) => ({
      id: h.demo.id,
      namespace: h.demo.namespace,
      status: h.demo.status,
      result: h.result,
      change: h.change,
      checks: h.checks,
    })),
  }
}
