import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {findDemo} from '../core/find-demo.js'
import {eventLine, localTime, orderedTimings, toDemoView, type DemoView} from '../render.js'
import {colorStatus, makeChalk} from '../colors.js'
import {CREATE_STEPS} from '../core/create-demo.js'
import {expiryWarnings} from '../core/expiry-warnings.js'
import {readCreatingReadiness, type CreatingReadiness} from '../core/creating-readiness.js'
import {clusterFlags} from '../flags.js'

export interface GetResult extends DemoView {
  events: Array<{type: string; at: string; actor: string; data: Record<string, unknown>}>
  /** Only for a `creating` demo: what its cluster says now. */
  readiness?: Exclude<CreatingReadiness, {kind: 'not-creating'}>
}

export default class Get extends BaseCommand<typeof Get> {
  static override summary = 'Show everything about one demo: status, URLs, database, timings, last error, history.'
  static override description = 'Secrets (database keys) are masked unless --show-secrets is given. Read-only.'
  static override examples = [
    '<%= config.bin %> get k3x9a2bq',
    '<%= config.bin %> get sales-call   # by --name; k3x, demo-k3x9a2bq work too',
    '<%= config.bin %> get k3x9a2bq --json | jq .portalUrl',
  ]
  static override args = {id: Args.string({description: 'Demo id, unique id prefix, name or namespace (see `demo list`).', required: true})}
  static override flags = {'show-secrets': Flags.boolean({description: 'Print secret values instead of masking them.'}), ...clusterFlags}

  async run(): Promise<GetResult> {
    const store = await this.deps.store()
    const demo = await findDemo(store, this.args.id, (id) => `demo get ${id}`)
    const events = await store.events(demo.id)
    const view = toDemoView(demo, this.deps.clock.now(), {showSecrets: this.flags['show-secrets']})
    const readiness = await readCreatingReadiness(demo, () => this.deps.cluster({defaultContext: demo.kubeContext}))
    for (const warning of expiryWarnings([demo], this.deps.identity().name, this.deps.clock.now())) this.warn(warning)
    const chalk = makeChalk(this.deps.env, this.deps.io.stdout)
    this.log(
      [
        `${view.id}${view.name ? ` (${view.name})` : ''}  ${colorStatus(chalk, view.status)}`,
        `  type:        ${view.type}`,
        `  owner:       ${view.createdBy}`,
        `  namespace:   ${view.namespace}${view.kubeContext ? ` (context ${view.kubeContext})` : ''}`,
        `  portal:      ${view.portalUrl}`,
        `  candidate:   ${view.candidateUrl}`,
        `  created:     ${localTime(demo.createdAt)}`,
        `  expires:     ${localTime(demo.expiresAt)} (${view.expiresIn})${view.autoCleanup ? '' : ', auto-cleanup off'}`,
        `  extensions:  ${view.extensionCount}`,
        `  database:    ${view.database.mode}${view.database.schema ? ` schema ${view.database.schema}` : ''}${view.database.supabaseProjectId ? ` project ${view.database.supabaseProjectId}` : ''}`,
        ...(view.database.supabaseAnonKey ? [`  anon key:    ${view.database.supabaseAnonKey}`] : []),
        ...timingLines(view.phaseTimings),
        ...(view.lastError ? [`  last error:  ${view.lastError}`] : []),
        ...readinessLines(readiness),
        '  history:',
        ...events.map((e) => `    ${eventLine(e)}`),
      ].join('\n'),
    )
    return {
      ...view,
      events: events.map((e) => ({type: e.type, at: e.at.toISOString(), actor: e.actor, data: e.data})),
      ...(readiness.kind === 'not-creating' ? {} : {readiness}),
    }
  }
}

/** Phase timings in step order, `total` last. */
function timingLines(timings: Record<string, number>): string[] {
  if (Object.keys(timings).length === 0) return []
  const ordered = orderedTimings(
    timings,
    CREATE_STEPS.map((s) => s.key),
  )
  return [`  timings:     ${ordered.map(([k, v]) => `${k} ${v}s`).join(', ')}`]
}

function readinessLines(readiness: CreatingReadiness): string[] {
  if (readiness.kind === 'not-creating') return []
  if (readiness.kind === 'unknown') return [`  live:        unknown (${readiness.reason})`]
  const states = readiness.deployments.map((d) => `${d.name} ${d.available}/${d.desired}${d.reason ? ` (${d.reason})` : ''}`)
  return [`  live:        ${readiness.available}/${readiness.total} deployments Available: ${states.join(', ')}`, `  next:        ${readiness.next}`]
}
