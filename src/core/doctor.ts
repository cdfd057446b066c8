import {DemoError} from './errors.js'
import type {ClusterAccess, Permission} from './ports.js'
import {missingPrivileges, REVOKE_PUBLIC_CREATE, type SharedDatabasePrivileges} from './shared-database.js'

/** One line of `demo doctor`: what was checked, whether it passed, what was found, and the fix when it did not. */
export interface CheckResult {
  name: string
  ok: boolean
  detail: string
  fix?: string
}

/** Node's oldest supported version (package.json engines). */
export const MIN_NODE = [22, 12] as const

/**
 * The permissions create, destroy and gc need, cluster-wide: create makes a namespace and server-side applies
 * its objects (PATCH) and reads readiness; destroy and gc delete namespaces; gc lists them.
 */
export const NEEDED_PERMISSIONS: ReadonlyArray<Permission & {by: string}> = [
  {verb: 'create', resource: 'namespaces', group: '', by: 'create'},
  {verb: 'patch', resource: 'namespaces', group: '', by: 'create, extend'},
  {verb: 'get', resource: 'namespaces', group: '', by: 'create, destroy'},
  {verb: 'list', resource: 'namespaces', group: '', by: 'gc'},
  {verb: 'delete', resource: 'namespaces', group: '', by: 'destroy, gc'},
  {verb: 'patch', resource: 'resourcequotas', group: '', by: 'create'},
  {verb: 'patch', resource: 'limitranges', group: '', by: 'create'},
  {verb: 'patch', resource: 'secrets', group: '', by: 'create'},
  {verb: 'patch', resource: 'configmaps', group: '', by: 'create'},
  {verb: 'patch', resource: 'services', group: '', by: 'create'},
  {verb: 'patch', resource: 'deployments', group: 'apps', by: 'create'},
  {verb: 'list', resource: 'deployments', group: 'apps', by: 'create'},
  {verb: 'list', resource: 'pods', group: '', by: 'create'},
  {verb: 'list', resource: 'events', group: '', by: 'create'},
  {verb: 'patch', resource: 'networkpolicies', group: 'networking.k8s.io', by: 'create'},
  {verb: 'patch', resource: 'ingresses', group: 'networking.k8s.io', by: 'create'},
]

export interface DoctorDeps {
  nodeVersion: string
  /** The config file in force and the ingress class it names; throws (ConfigError) when it is broken. */
  config: () => Promise<{configPath: string | null; ingressClass: string; databaseMode: string}>
  /** Opens (and migrates) the state store; throws when it cannot. */
  store: () => Promise<{describe(): string}>
  cluster: () => Promise<ClusterAccess>
  /**
   * Connects to the shared database (database.mode shared-schema) and reads what its role may do; throws a
   * DemoError with a hint when the variable is unset or the server cannot be reached. Asked only in that mode.
   */
  sharedDatabase: () => Promise<SharedDatabasePrivileges>
}

function failed(name: string, error: unknown, fix: string): CheckResult {
  const message = error instanceof Error ? error.message : String(error)
  return {name, ok: false, detail: message, fix: error instanceof DemoError && error.hint ? error.hint : fix}
}

export function checkNode(version: string): CheckResult {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])
  const detail = `Node ${version} (demo needs ${MIN_NODE.join('.')} or newer)`
  return ok ? {name: 'node', ok, detail} : {name: 'node', ok, detail, fix: `Install Node ${MIN_NODE.join('.')} or newer (e.g. \`nvm install 22\`).`}
}

async function attempt(name: string, fix: string, check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check()
  } catch (error) {
    return failed(name, error, fix)
  }
}

async function checkPermissions(cluster: ClusterAccess): Promise<CheckResult> {
  const answers = await Promise.all(NEEDED_PERMISSIONS.map(async (p) => ({...p, allowed: await cluster.canI(p)})))
  const missing = answers.filter((a) => !a.allowed)
  const named = (p: Permission) => `${p.verb} ${p.resource}${p.group ? `.${p.group}` : ''}`
  if (missing.length === 0) return {name: 'rbac', ok: true, detail: `all ${answers.length} permissions create, destroy and gc need`}
  return {
    name: 'rbac',
    ok: false,
    detail: `missing ${missing.map((m) => `${named(m)} (${m.by})`).join(', ')}`,
    fix: 'Bind this identity to a ClusterRole with these verbs (README "Kubernetes permissions"), or use a context that has them.',
  }
}

/**
 * `demo doctor`: every check runs, whatever the others found, and says what it found and the fix. Read-only
 * but for the state store's migrations, which opening the store runs as every command does.
 */
export async function diagnose(deps: DoctorDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [checkNode(deps.nodeVersion)]
  let ingressClass: string | undefined
  let databaseMode: string | undefined
  results.push(
    await attempt('config', 'Fix demo.config.yaml as the message says.', async () => {
      const config = await deps.config()
      ingressClass = config.ingressClass
      databaseMode = config.databaseMode
      return {name: 'config', ok: true, detail: config.configPath ?? 'no demo.config.yaml found: the built-in defaults'}
    }),
  )
  results.push(
    await attempt('state', 'Check DEMO_DATABASE_URL (or unset it for the embedded store).', async () => {
      const store = await deps.store()
      return {name: 'state', ok: true, detail: `${store.describe()}, reachable and migrated`}
    }),
  )
  if (databaseMode === 'shared-schema') results.push(...(await checkSharedDatabase(deps.sharedDatabase)))
  let clusterAccess: ClusterAccess | undefined
  const kubeFix = 'Check the kubeconfig and context (`kubectl config current-context`, `kubectl cluster-info`).'
  const cluster = await attempt('cluster', kubeFix, async () => {
    const access = await deps.cluster()
    await access.ping()
    clusterAccess = access
    return {name: 'cluster', ok: true, detail: `context ${access.contextName()}: the API server at ${access.server()} answers`}
  })
  results.push(cluster)
  if (!clusterAccess) {
    const skipped = 'skipped: the cluster cannot be reached'
    return [...results, {name: 'rbac', ok: false, detail: skipped, fix: kubeFix}, {name: 'ingress', ok: false, detail: skipped, fix: kubeFix}]
  }
  const reachable: ClusterAccess = clusterAccess
  results.push(await attempt('rbac', kubeFix, () => checkPermissions(reachable)))
  results.push(await attempt('ingress', kubeFix, () => checkIngressClass(reachable, ingressClass)))
  return results
}

async function checkIngressClass(cluster: ClusterAccess, name: string | undefined): Promise<CheckResult> {
  if (name === undefined) return {name: 'ingress', ok: false, detail: 'skipped: the config could not be read', fix: 'Fix demo.config.yaml first.'}
  if (await cluster.ingressClassExists(name)) return {name: 'ingress', ok: true, detail: `IngressClass "${name}" exists`}
  return {
    name: 'ingress',
    ok: false,
    detail: `IngressClass "${name}" (ingress.className) does not exist`,
    fix: 'Install the ingress controller, or set ingress.className in demo.config.yaml to one of `kubectl get ingressclass`.',
  }
}

const SHARED_FIX = 'Set DEMO_SHARED_DATABASE_URL (or the variable database.urlEnv names) to a reachable Postgres (README "Database per demo").'

/**
 * The shared database of mode shared-schema, one line per thing create needs of it: `shared-db` (reachable, as which
 * role), `shared-db-roles` (CREATEROLE), `shared-db-schemas` (CREATE on the database), and `shared-db-public`
 * (no role may create objects in schema public, which the isolation of demos relies on). A fix is the exact statement.
 */
export async function checkSharedDatabase(read: () => Promise<SharedDatabasePrivileges>): Promise<CheckResult[]> {
  let facts: SharedDatabasePrivileges | undefined
  const reachable = await attempt('shared-db', SHARED_FIX, async () => {
    facts = await read()
    const as = `${facts.where} as role "${facts.role}"${facts.superuser ? ' (superuser)' : ''}, PostgreSQL ${facts.serverVersion}`
    return {name: 'shared-db', ok: true, detail: `${as}: reachable`}
  })
  if (!facts) {
    const skipped = 'skipped: the shared database cannot be reached'
    return [
      reachable,
      ...['shared-db-roles', 'shared-db-schemas', 'shared-db-public'].map((name) => ({name, ok: false, detail: skipped, fix: reachable.fix})),
    ]
  }
  return [reachable, ...privilegeChecks(facts)]
}

function privilegeChecks(facts: SharedDatabasePrivileges): CheckResult[] {
  const missing = missingPrivileges(facts)
  const line = (name: string, privilege: string, what: string, ok: string): CheckResult => {
    const lacking = missing.find((m) => m.name === privilege)
    if (!lacking) return {name, ok: true, detail: ok}
    return {name, ok: false, detail: `role "${facts.role}" lacks ${privilege}: create cannot ${what}`, fix: `As a superuser run: ${lacking.grant}`}
  }
  const publicCheck: CheckResult =
    facts.publicMayCreateInPublic === true
      ? {
          name: 'shared-db-public',
          ok: false,
          detail: `every role may create objects in schema public of ${facts.database}, so a demo's role could too (a PostgreSQL before 15, or a grant)`,
          fix: `As a superuser (or the schema's owner) run: ${REVOKE_PUBLIC_CREATE}`,
        }
      : {name: 'shared-db-public', ok: true, detail: `no demo role may create objects in schema public of ${facts.database}`}
  return [
    line(
      'shared-db-roles',
      'CREATEROLE',
      'make a login role per demo',
      facts.superuser ? 'a superuser may create roles' : `role "${facts.role}" has CREATEROLE`,
    ),
    line(
      'shared-db-schemas',
      `CREATE on database ${facts.database}`,
      'make a schema per demo',
      facts.superuser ? 'a superuser may create schemas' : `role "${facts.role}" has CREATE on database ${facts.database}`,
    ),
    publicCheck,
  ]
}
