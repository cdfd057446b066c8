import {Flags} from '@oclif/core'
import {dump} from 'js-yaml'
import {BaseCommand} from '../base-command.js'
import {checkCiTargets, ciTargets, writeCiOutputs, type CiTargets} from '../adapters/ci-outputs.js'
import {checkMonthlyBudget, describeEstimate, estimateDemoCost} from '../core/budget.js'
import type {CostEstimate} from '../core/cost.js'
import {createDemo, planDemo, resolveCreateOptions, validateCreateRequest, type CreateRequest} from '../core/create-demo.js'
import {parseDuration} from '../core/duration.js'
import {parseSeedValue} from '../core/seed-value.js'
import type {Manifest} from '../core/ports.js'
import type {ProjectConfig} from '../core/project-config.js'
import {PUBLIC_SECRET_KEYS} from '../core/render-stack.js'
import {clusterFlags, ownerFlag, waitFlag, waitTimeoutFlag} from '../flags.js'
import {localTime, MASK, toDemoView, type DemoView} from '../render.js'

/** Secret values never reach stdout, even in a dry run; the demo's id and type are no secret and stay readable. */
export function maskSecrets(manifest: Manifest): Manifest {
  if (manifest.kind !== 'Secret') return manifest
  const masked = structuredClone(manifest)
  for (const field of ['data', 'stringData'] as const) masked[field] = maskValues(masked[field])
  return masked
}

function maskValues(values: unknown): unknown {
  if (values === null || typeof values !== 'object') return values
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, PUBLIC_SECRET_KEYS.includes(key) ? value : MASK]))
}

/** create's --json document: the demo, and what its requested lifetime is estimated to cost. */
export type CreateResultView = DemoView & {estimatedCost: CostEstimate}

export default class Create extends BaseCommand<typeof Create> {
  static override summary = 'Create a demo environment and wait until it is ready.'
  static override description = `Creates namespace demo-<id> with quota, limits, network policies and Pod Security labels, the services, their Secret and the Ingress, waits until every Deployment is Available, and prints the URLs. Progress goes to stderr; --json prints the result on stdout.

On failure (or Ctrl-C) it removes what it created, records the demo as failed with the reason, and exits non-zero; --keep-on-failure leaves the namespace for debugging.`
  static override examples = [
    '<%= config.bin %> create --type recruiting-agency',
    '<%= config.bin %> create --type startup --duration 4h --name acme-call',
    '<%= config.bin %> create --json --wait-timeout 10m   # in CI',
    '<%= config.bin %> create --dry-run > manifests.yaml',
  ]

  static override flags = {
    type: Flags.string({
      char: 't',
      description:
        'Demo type: one of `types` in demo.config.yaml (built in: recruiting-agency, enterprise, startup); default: your `demo config set type`, else the first type.',
    }),
    duration: Flags.string({
      char: 'd',
      description: 'Lifetime, e.g. 2h, 90m (default: your `demo config set duration`, else lifetime.defaultHours).',
    }),
    name: Flags.string({description: 'A label for humans (lowercase letters, digits, "-").'}),
    'auto-cleanup': Flags.boolean({
      description: 'Let `demo gc` destroy it when it expires (--no-auto-cleanup: keep it until destroyed). [default: on]',
      default: true,
      allowNo: true,
    }),
    wait: waitFlag('Wait until every Deployment is Available (--no-wait: return after apply; the demo stays `creating`).'),
    'wait-timeout': waitTimeoutFlag({description: 'How long to wait for Available (default: wait.timeoutSeconds, 300s).'}),
    'keep-on-failure': Flags.boolean({
      description: 'On failure, keep the namespace for debugging instead of rolling back. [default: off]',
      default: false,
    }),
    'dry-run': Flags.boolean({
      description: 'Print the manifests that would be applied (Secret values masked) and change nothing. [default: off]',
      default: false,
    }),
    'output-env': Flags.string({
      description:
        'Also write DEMO_ID, DEMO_NAMESPACE, DEMO_PORTAL_URL, DEMO_CANDIDATE_URL and DEMO_EXPIRES_AT as KEY=value lines to this file (for CI). GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are written when set.',
    }),
    'seed-value': Flags.string({
      description:
        'Generate the demo data from this seed value (a whole number): the same type and seed value give the same rows (database.mode shared-schema). [default: random, recorded]',
    }),
    owner: ownerFlag,
    ...clusterFlags,
  }

  async run(): Promise<CreateResultView | {manifests: Manifest[]}> {
    const {deps, flags} = this
    const {project} = await deps.config()
    const request = this.request(project)
    if (flags['dry-run']) return this.dryRun(request)
    validateCreateRequest(project, request)
    const {demoType, ttlMs} = resolveCreateOptions(project, request)
    const estimatedCost = estimateDemoCost(project, demoType, ttlMs)
    const ci = ciTargets(deps.env, flags['output-env'], deps.cwd)
    checkCiTargets(ci)
    deps.preloadClusterModules()
    const cancel = deps.cancellation((message) => this.note(message))
    const checkpoint = deps.checkpoint()
    try {
      const store = await deps.store()
      this.note(`State: ${store.describe()}. Owner: ${request.actor}.`)
      this.note(`Estimated cost: ${describeEstimate(estimatedCost, project)}.`)
      // Before any Kubernetes call: a refused create touches nothing.
      await checkMonthlyBudget({stats: await deps.stats(), config: project, clock: deps.clock}, {demoType, ttlMs})
      const {demo, waited} = await createDemo(
        {
          config: project,
          templates: await deps.templates(),
          store,
          cluster: await deps.cluster(),
          databases: await deps.databases(),
          databasesFor: (mode, recorded) => deps.databasesFor(mode, recorded),
          clock: deps.clock,
          random: deps.random,
          sleeper: deps.sleeper,
          steps: deps.steps(),
          checkpoint: (name, demoId) => {
            cancel.track(demoId)
            checkpoint(name, demoId)
          },
          signal: cancel.signal,
          warn: (message) => this.warn(message),
        },
        request,
      )
      const view = toDemoView(demo, deps.clock.now())
      // Not built for --json at all: its local time alone loads the time zone data (~25 ms of CPU).
      if (!this.jsonEnabled()) this.printResult(view, waited)
      this.writeCi(ci, view, {waited, cost: describeEstimate(estimatedCost, project)})
      return {...view, estimatedCost}
    } finally {
      cancel.dispose()
    }
  }

  /** The request from the flags, with your `demo config` defaults where a flag is not given. */
  private request(project: ProjectConfig): CreateRequest {
    const {deps, flags} = this
    const preferences = deps.preferences((message) => this.note(message))
    const waitTimeout = flags['wait-timeout']
    return {
      type: flags.type ?? preferences.type,
      duration: flags.duration ?? preferences.duration,
      name: flags.name,
      seedValue: flags['seed-value'] === undefined ? undefined : parseSeedValue(flags['seed-value']),
      actor: deps.identity().name,
      autoCleanup: flags['auto-cleanup'],
      wait: flags.wait,
      waitTimeoutMs:
        waitTimeout === undefined ? project.wait.timeoutSeconds * 1000 : parseDuration(waitTimeout, '--wait-timeout', {bareNumber: 'refuse'}),
      keepOnFailure: flags['keep-on-failure'],
      fromPreferences: {
        type: flags.type === undefined && preferences.type !== undefined,
        duration: flags.duration === undefined && preferences.duration !== undefined,
      },
    }
  }

  private async dryRun(request: CreateRequest): Promise<{manifests: Manifest[]}> {
    const {deps} = this
    const plan = planDemo(
      {
        config: (await deps.config()).project,
        templates: await deps.templates(),
        clock: deps.clock,
        random: deps.random,
        databases: await deps.databases(),
        contextName: null,
        clusterId: null,
      },
      request,
    )
    const manifests = [plan.stack.namespace, ...plan.stack.objects].map((m) => maskSecrets(m))
    if (!this.jsonEnabled()) this.log(manifests.map((m) => dump(m, {noRefs: true, lineWidth: -1})).join('---\n'))
    this.note(`Dry run: ${manifests.length} objects for demo ${plan.demo.id} (${plan.demo.demoType}); nothing was created.`)
    return {manifests}
  }

  private writeCi(targets: CiTargets, view: DemoView, facts: {waited: boolean; cost: string}): void {
    const values = {id: view.id, namespace: view.namespace, portalUrl: view.portalUrl, candidateUrl: view.candidateUrl, expiresAt: view.expiresAt}
    writeCiOutputs(targets, values, stepSummary(view, facts), this.deps.random)
  }

  private printResult(view: DemoView, waited: boolean): void {
    const headline = waited
      ? `Demo ${view.id} is ready (${view.type}, expires in ${view.expiresIn}, at ${localTime(new Date(view.expiresAt))}).`
      : `Demo ${view.id} is applied; not waiting for it to be ready (--no-wait). \`demo get ${view.id}\` shows its state.`
    this.log(headline)
    this.log(`  Portal:     ${view.portalUrl}`)
    this.log(`  Candidate:  ${view.candidateUrl}`)
    this.log(`  Namespace:  ${view.namespace}${view.kubeContext ? ` (context ${view.kubeContext})` : ''}`)
    this.log(`  Owner:      ${view.createdBy}`)
    this.log(`Destroy it with \`demo destroy ${view.id}\`; extend it with \`demo extend ${view.id} --by 1h\`.`)
  }
}

/** The GitHub step summary: a short markdown table of what a reviewer needs. */
function stepSummary(view: DemoView, facts: {waited: boolean; cost: string}): string {
  return [
    `### Demo \`${view.id}\` ${facts.waited ? 'is ready' : 'is applied (not waited for)'}`,
    '',
    '| | |',
    '|---|---|',
    `| Portal | ${view.portalUrl} |`,
    `| Candidate | ${view.candidateUrl} |`,
    `| Namespace | \`${view.namespace}\` |`,
    `| Type | ${view.type} |`,
    `| Expires | ${view.expiresAt} |`,
    `| Estimated cost | ${facts.cost} |`,
    '',
    `Destroy it with \`demo destroy ${view.id} --yes\`.`,
    '',
  ].join('\n')
}
