import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {findDemo} from '../core/find-demo.js'
import {eventLine, localTime, MASK, orderedTimings, toDemoView, type DemoView} from '../render.js'
import {colorStatus, makeChalk} from '../colors.js'
import {CREATE_STEPS} from '../core/create-demo.js'
import {expiryWarnings} from '../core/expiry-warnings.js'
import {loginsOf, type LoginView} from '../core/demo-logins.js'
import {mayHoldObjects, type Demo} from '../core/demo.js'
import {readCreatingReadiness, type CreatingReadiness} from '../core/creating-readiness.js'
import {clusterFlags} from '../flags.js'

export interface GetResult extends DemoView {
  events: Array<{type: string; at: string; actor: string; data: Record<string, unknown>}>
  /** Demo logins (e-mails; passwords masked unless --show-secrets), read from the demo's Secret; absent for mode none. */
  logins?: LoginView[]
  /** Only for a `creating` demo: what its cluster says now. */
  readiness?: Exclude<CreatingReadiness, {kind: 'not-creating'}>
}

export default class Get extends BaseCommand<typeof Get> {
  static override summary = 'Show everything about one demo: status, URLs, database, timings, last error, history.'
  static override description =
    'Secrets (database keys, demo login passwords read from the demo Secret) are masked unless --show-secrets is given. Read-only.'
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
    const logins = await this.logins(demo)
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
        ...databaseLines(view, logins),
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
      ...(logins ? {logins} : {}),
      ...(readiness.kind === 'not-creating' ? {} : {readiness}),
    }
  }

  /** The demo's logins from its Secret (the only place their passwords live); a cluster that cannot be read is a note, not a failure. */
  private async logins(demo: Demo): Promise<LoginView[] | undefined> {
    if (demo.database.mode === 'none' || !mayHoldObjects(demo)) return undefined
    try {
      const cluster = await this.deps.cluster({defaultContext: demo.kubeContext})
      const values = await cluster.secretValues({demoId: demo.id, namespace: demo.namespace}, 'demo-database')
      return loginsOf(values, {showSecrets: this.flags['show-secrets'], mask: MASK})
    } catch (error) {
      this.note(`Note: the demo's logins could not be read from its Secret (${error instanceof Error ? error.message : String(error)}).`)
      return undefined
    }
  }
}

/** The database, its seed value, its Supabase anon key and its logins (passwords as the view has them: masked unless asked). */
function databaseLines(view: DemoView, logins: LoginView[] | undefined): string[] {
  const {database} = view
  return [
    `  database:    ${database.mode}${database.schema ? ` schema ${database.schema}` : ''}${database.supabaseProjectId ? ` project ${database.supabaseProjectId}` : ''}`,
    ...(database.mode === 'none' ? [] : [`  seed value:  ${String(view.seedValue)}`]),
    ...(database.supabaseAnonKey ? [`  anon key:    ${database.supabaseAnonKey}`] : []),
    ...(logins && logins.length > 0 ? ['  logins:', ...logins.map((l) => `    ${l.role.padEnd(15)} ${l.email}  ${l.password}`)] : []),
  ]
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
