import {assertDemoCluster, connectDemoCluster} from './cluster-match.js'
import {awaitReady, cancelledError} from './await-ready.js'
import {markReady} from './create-demo.js'
import type {Demo} from './demo.js'
import {destroyDemo, type DestroyDeps} from './destroy-demo.js'
import {CancelledError, ConflictError} from './errors.js'
import {findDemo} from './find-demo.js'
import type {Cluster, DatabasesFor, DemoStore} from './ports.js'
import type {ProjectConfig} from './project-config.js'
import {renderStack, type TemplateFile} from './render-stack.js'
import {rollBack} from './roll-back.js'

export interface WaitRequest {
  id: string
  actor: string
  admins: readonly string[]
  /** Authenticated identities that may destroy anyone's demo (destroy's rule, authorize.ts). */
  trustedIdentities: readonly string[]
  timeoutMs: number
  /** Like create's --keep-on-failure: a demo that does not come up keeps its namespace for debugging. */
  keepOnFailure: boolean
}

export interface WaitDeps extends Omit<DestroyDeps, 'confirm'> {
  store: DemoStore
  databasesFor: DatabasesFor
  config: ProjectConfig
  templates: TemplateFile[]
}

export type WaitOutcome = {kind: 'already'; demo: Demo} | {kind: 'ready'; demo: Demo} | {kind: 'destroyed'; demo: Demo; namespaceDeleted: boolean}

/** The Deployments the demo's stack has (so one a killed create never applied is waited for, not forgotten); none when the stack no longer renders. */
function expectedDeployments(deps: WaitDeps, demo: Demo): string[] {
  try {
    return renderStack({config: deps.config, templates: deps.templates, database: {database: demo.database, secretEnv: {}}, demo}).deploymentNames
  } catch {
    return []
  }
}

/**
 * A `creating` demo: waits until every Deployment is Available, then marks it ready with the wait in its phase
 * timings (create's markReady); if it does not come up in time (or cannot: quota, image, crash), rolls it back
 * exactly as create does and throws create's error. Ctrl-C only stops the waiting: the demo stays creating.
 */
async function finishCreate(deps: WaitDeps, demo: Demo, request: WaitRequest): Promise<WaitOutcome> {
  if (!('ingress' in demo.phaseTimings)) {
    throw new ConflictError(
      `Demo "${demo.id}" is creating, but its create never finished applying the stack (it was interrupted); there is nothing to wait for.`,
      {
        hint: `Remove it with \`demo destroy ${demo.id}\` and create a new one.`,
      },
    )
  }
  const cluster: Cluster = await connectDemoCluster(deps.clusterFor, demo)
  await assertDemoCluster(cluster, demo, `demo wait ${demo.id}`)
  const started = deps.clock.now().getTime()
  try {
    await deps.steps.run('Wait until every deployment is Available', () =>
      awaitReady({...deps, cluster}, {namespace: demo.namespace, deploymentNames: expectedDeployments(deps, demo), timeoutMs: request.timeoutMs}),
    )
  } catch (error) {
    if (error instanceof CancelledError || deps.signal.aborted) throw cancelledError(deps.signal, error)
    const timings = {...demo.phaseTimings, wait: Math.round(deps.clock.now().getTime() - started) / 1000}
    throw await rollBack({...deps, cluster}, {demo, error, timings, keep: request.keepOnFailure, actor: request.actor})
  }
  const timings = {...demo.phaseTimings, wait: Math.round(deps.clock.now().getTime() - started) / 1000}
  return {kind: 'ready', demo: await markReady(deps, demo, timings, request.actor)}
}

/**
 * Completes what --no-wait left: a `creating` demo is waited for until ready (or failed and rolled back), a
 * `destroying` one until its namespace is gone and it is destroyed (destroy's own steps: owner or admin only).
 * A demo already ready, degraded or destroyed is success at once; a failed one is a ConflictError.
 */
export async function waitForDemo(deps: WaitDeps, request: WaitRequest): Promise<WaitOutcome> {
  const demo = await findDemo(deps.store, request.id, (id) => `demo wait ${id}`)
  switch (demo.status) {
    case 'ready':
    case 'degraded':
    case 'destroyed':
      return {kind: 'already', demo}
    case 'failed':
      throw new ConflictError(`Demo "${demo.id}" failed; there is nothing to wait for: ${demo.lastError ?? 'no reason recorded'}`, {
        hint: `See \`demo get ${demo.id}\`; remove it with \`demo destroy ${demo.id}\`.`,
      })
    case 'creating':
      return finishCreate(deps, demo, request)
    case 'destroying': {
      const outcome = await destroyDemo(deps, {
        id: demo.id,
        actor: request.actor,
        admins: request.admins,
        trustedIdentities: request.trustedIdentities,
        wait: true,
        timeoutMs: request.timeoutMs,
      })
      if (outcome.kind === 'destroyed') return {kind: 'destroyed', demo: outcome.demo, namespaceDeleted: outcome.namespaceDeleted}
      return {kind: 'already', demo: outcome.demo}
    }
  }
}
