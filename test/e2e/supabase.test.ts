// End to end: the built CLI against the spec-checked Supabase stand-in (test/support/supabase-stand-in.ts), the local
// control plane and real PostgreSQL, in both Supabase setups: shared-schema on a Supabase project (the project's
// Postgres is this file's scratch database) and a project per demo (database.mode supabase-project). The CLI finds
// the stand-in through DEMO_SUPABASE_API_URL and the two URL templates, as it would a self-hosted Supabase.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {writeFileSync} from 'node:fs'
import {dump} from 'js-yaml'
import {AppsV1Api, CoreV1Api} from '@kubernetes/client-node'
import {createClient} from '@supabase/supabase-js'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase, testDatabaseUrl} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, startDemo, transcript, type CliResult, type CliSandbox} from '../support/cli.js'
import {loadTestKubeConfig, namespaceExists} from '../support/k8s.js'
import {schemaAndRole, withClient} from '../support/shared-schema.js'
import {ensureDataApiRoles, SupabaseStandIn, type StandInProject} from '../support/supabase-stand-in.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const apps = kubeConfig.makeApiClient(AppsV1Api)

const TOKEN = 'sbp_e2e_token_that_must_never_be_printed'
const ORG = 'acme-e2e'
const MASK = '********'
/** api-gateway needs the service-role key (it declares so); portal does not get it. */
const SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000, supabaseServiceRole: true},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

let database: {url: string; drop: () => Promise<void>}
let standIn: SupabaseStandIn
let shared: StandInProject
/** Every output of every CLI run of this file, checked for secrets at the end. */
const outputs: CliResult[] = []
/** Secrets seen along the way (demo role passwords, login passwords), checked against every output. */
const secrets = new Set<string>([TOKEN])

before(async () => {
  database = await scratchDatabase('e2e_supa')
  await ensureDataApiRoles(database.url)
  standIn = await SupabaseStandIn.start({token: TOKEN, organization: ORG, adminUrl: testDatabaseUrl()})
  shared = standIn.addSharedProject(database.url)
})

after(async () => {
  await standIn.close()
  await database.drop()
})

function supabaseEnv(): NodeJS.ProcessEnv {
  return {
    SUPABASE_ACCESS_TOKEN: TOKEN,
    DEMO_SUPABASE_API_URL: standIn.url,
    DEMO_SUPABASE_PROJECT_URL_TEMPLATE: standIn.projectUrlTemplate(),
    DEMO_SUPABASE_DATABASE_URL_TEMPLATE: standIn.databaseUrlTemplate(),
    DEBUG: 'demo*',
  }
}

function sharedSandbox(): CliSandbox {
  const box = cliSandbox({
    config: {services: SERVICES, database: {mode: 'shared-schema'}, supabase: {projectRef: shared.ref}},
    databaseUrl: database.url,
  })
  Object.assign(box.env, supabaseEnv(), {DEMO_SHARED_DATABASE_URL: database.url})
  return box
}

function projectSandbox(): CliSandbox {
  const box = cliSandbox({
    config: {services: SERVICES, database: {mode: 'supabase-project'}, supabase: {organization: ORG}},
    databaseUrl: database.url,
  })
  Object.assign(box.env, supabaseEnv())
  return box
}

async function demo(box: CliSandbox, args: string[]): Promise<CliResult> {
  const result = await runDemo(box, args)
  outputs.push(result)
  return result
}

async function secretOf(namespace: string, name: string): Promise<Record<string, string> | null> {
  try {
    const secret = await core.readNamespacedSecret({name, namespace})
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
  } catch {
    return null
  }
}

function exposed(): string[] {
  return shared.dbSchema.split(',').map((s) => s.trim())
}

async function authUsersOf(url: string, demoId: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const exists = await client.query<{t: string | null}>(`SELECT to_regclass('auth.users')::text AS t`)
    if (!exists.rows[0]?.t) return []
    const {rows} = await client.query<{email: string}>(`SELECT email FROM auth.users WHERE raw_user_meta_data->>'demo_id' = $1 ORDER BY email`, [
      demoId,
    ])
    return rows.map((r) => r.email)
  })
}

function rememberSecrets(env: Record<string, string>): void {
  if (env.DATABASE_URL) secrets.add(decodeURIComponent(new URL(env.DATABASE_URL).password))
  for (const login of JSON.parse(env.DEMO_LOGINS ?? '[]') as Array<{password: string}>) secrets.add(login.password)
}

const PERSONAS = ['admin@demo.example', 'candidate@demo.example', 'hiring.manager@demo.example', 'recruiter@demo.example']

interface View {
  id: string
  namespace: string
  database: {mode: string; schema: string | null; supabaseProjectId: string | null; supabaseUrl: string | null; supabaseAnonKey: string | null}
}

describe('shared-schema on a Supabase project, through the CLI', () => {
  it('create exposes, grants and seeds the schema, makes tagged Auth users, fills both Secrets; health counts through the Data API; destroy undoes it all', async () => {
    const box = sharedSandbox()
    const created = await demo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const view = jsonOf<View>(created)
    const schema = `demo_${view.id}`
    assert.deepEqual(view.database, {
      mode: 'shared-schema',
      schema,
      supabaseProjectId: shared.ref,
      supabaseUrl: standIn.projectUrl(shared.ref),
      supabaseAnonKey: MASK,
    })
    assert.ok(exposed().includes(schema), `exposed: ${shared.dbSchema}`)
    assert.deepEqual(
      await authUsersOf(database.url, view.id),
      PERSONAS.map((p) => p.replace('@', `+${view.id}@`)),
    )

    const env = (await secretOf(view.namespace, 'demo-database')) ?? {}
    rememberSecrets(env)
    const logins = JSON.parse(env.DEMO_LOGINS ?? '[]') as Array<{email: string; authEmail: string}>
    assert.deepEqual(logins.map((l) => l.authEmail).sort(), await authUsersOf(database.url, view.id))
    assert.deepEqual(Object.keys(env).sort(), [
      'DATABASE_URL',
      'DB_SCHEMA',
      'DEMO_ID',
      'DEMO_LOGINS',
      'DEMO_TYPE',
      'SUPABASE_ANON_KEY',
      'SUPABASE_URL',
    ])
    assert.equal(env.SUPABASE_ANON_KEY, shared.anonKey)
    assert.deepEqual(await secretOf(view.namespace, 'demo-supabase-service-role'), {SUPABASE_SERVICE_ROLE_KEY: shared.serviceRoleKey})
    const envOf = async (name: string) =>
      (await apps.readNamespacedDeployment({name, namespace: view.namespace})).spec?.template.spec?.containers[0]?.env ?? []
    assert.deepEqual(JSON.parse(JSON.stringify((await envOf('api-gateway')).filter((e) => e.name.startsWith('SUPABASE')))), [
      {name: 'SUPABASE_SERVICE_ROLE_KEY', valueFrom: {secretKeyRef: {name: 'demo-supabase-service-role', key: 'SUPABASE_SERVICE_ROLE_KEY'}}},
    ])
    assert.deepEqual(
      (await envOf('portal')).filter((e) => e.name.startsWith('SUPABASE')),
      [],
    )

    const row = await withClient(
      database.url,
      async (c) =>
        (await c.query<{supabase_anon_key: string}>('SELECT supabase_anon_key FROM demo_orchestrator.demo_instances WHERE id = $1', [view.id]))
          .rows[0],
    )
    assert.equal(row?.supabase_anon_key, shared.anonKey)
    // --show-secrets prints the login passwords on purpose: this run is left out of the leak check.
    const shown = jsonOf<View>(await runDemo(box, ['get', view.id, '--json', '--show-secrets']))
    assert.equal(shown.database.supabaseAnonKey, shared.anonKey)

    const health = await demo(box, ['health', view.id, '--no-urls', '--json'])
    const checks = jsonOf<{demos: Array<{checks: Array<{name: string; result: string; detail: string}>}>}>(health).demos[0]?.checks ?? []
    const dataApi = checks.find((c) => c.name === 'data-api')
    assert.equal(dataApi?.result, 'healthy', transcript(health))
    assert.match(dataApi?.detail ?? '', new RegExp(`rows in ${schema}\\.\\w+ as anon`))
    assert.ok(standIn.log.some((e) => e.api === 'postgrest' && e.method === 'head' && e.status === 200))

    const destroyed = await demo(box, ['destroy', view.id, '--yes', '--json'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.ok(!exposed().includes(schema))
    assert.deepEqual(await authUsersOf(database.url, view.id), [])
    assert.deepEqual(await withClient(database.url, (c) => schemaAndRole(c, schema)), {schema: false, role: false})
    assert.equal(await namespaceExists(core, view.namespace), false)
  })

  it('health reports the Data API unhealthy when the schema is no longer exposed', async () => {
    const box = sharedSandbox()
    const created = await demo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const view = jsonOf<View>(created)
    shared.dbSchema = exposed()
      .filter((s) => s !== `demo_${view.id}`)
      .join(',')
    const health = await demo(box, ['health', view.id, '--no-urls', '--json'])
    assert.equal(health.code, 5, transcript(health))
    const checks = jsonOf<{demos: Array<{checks: Array<{name: string; result: string; detail: string}>}>}>(health).demos[0]?.checks ?? []
    assert.match(checks.find((c) => c.name === 'data-api')?.detail ?? '', /answered 406/)
    assert.equal((await demo(box, ['destroy', view.id, '--yes'])).code, 0)
  })

  it('a create whose Auth users are refused rolls back: no exposure, no Auth user, no schema, no namespace (exit 1)', async () => {
    const box = sharedSandbox()
    const before = exposed()
    standIn.faults.push({match: /^post \/admin\/users$/, status: 422, body: {code: 422, error_code: 'validation_failed', msg: 'refused'}, times: 1})
    const failed = await demo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(failed.code, 1, transcript(failed))
    assert.match(failed.stderr, /Supabase Auth createUser/)
    const id = /demo-([a-z0-9]+)/.exec(failed.stderr)?.[1] ?? ''
    assert.ok(id, transcript(failed))
    assert.deepEqual(exposed(), before)
    assert.deepEqual(await authUsersOf(database.url, id), [])
    assert.deepEqual(await withClient(database.url, (c) => schemaAndRole(c, `demo_${id}`)), {schema: false, role: false})
    assert.equal(await namespaceExists(core, `demo-${id}`), false)
  })

  it('two creates at once on the same project: both schemas are exposed, neither lost', async () => {
    const box = sharedSandbox()
    const runs = await Promise.all([0, 1].map(() => startDemo(box, ['create', '--type', 'startup', '--json']).result))
    outputs.push(...runs)
    const views = runs.map((r) => {
      assert.equal(r.code, 0, transcript(r))
      return jsonOf<View>(r)
    })
    for (const v of views) assert.ok(exposed().includes(`demo_${v.id}`), `exposed: ${shared.dbSchema}`)
    await Promise.all(views.map(async (v) => assert.equal((await demo(box, ['destroy', v.id, '--yes'])).code, 0)))
    for (const v of views) assert.ok(!exposed().includes(`demo_${v.id}`))
  })

  it('destroy after supabase.projectRef left the config still undoes the project side the row records', async () => {
    const box = sharedSandbox()
    const created = await demo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const view = jsonOf<View>(created)
    assert.equal(view.database.supabaseProjectId, shared.ref)
    assert.ok(exposed().includes(`demo_${view.id}`))
    assert.notDeepEqual(await authUsersOf(database.url, view.id), [])
    writeFileSync(box.env.DEMO_CONFIG ?? '', dump({services: SERVICES, database: {mode: 'shared-schema'}}))
    const destroyed = await demo(box, ['destroy', view.id, '--yes'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.ok(!exposed().includes(`demo_${view.id}`), `still exposed: ${shared.dbSchema}`)
    assert.deepEqual(await authUsersOf(database.url, view.id), [])
    assert.deepEqual(await withClient(database.url, (c) => schemaAndRole(c, `demo_${view.id}`)), {schema: false, role: false})
  })

  it('gc removes tagged Auth users and an exposed demo schema that no row records', async () => {
    const box = sharedSandbox()
    const leftover = 'zleftov1'
    const admin = createClient(standIn.projectUrl(shared.ref), shared.serviceRoleKey, {auth: {persistSession: false, autoRefreshToken: false}})
    const {error} = await admin.auth.admin.createUser({email: 'left@demo.example', password: 'x-Password-1', user_metadata: {demo_id: leftover}})
    assert.equal(error, null)
    shared.dbSchema = [...exposed(), `demo_${leftover}`].join(',')
    const run = await demo(box, ['gc', '--json', '--max-deletions', '500'])
    assert.equal(run.code, 0, transcript(run))
    const report = jsonOf<{done: Array<{demoId: string; action: string; reason: string}>}>(run)
    const entry = report.done.find((d) => d.demoId === leftover)
    assert.equal(entry?.action, 'drop-database', transcript(run))
    assert.match(entry?.reason ?? '', /1 Supabase Auth user, Data API exposure of demo_zleftov1/)
    assert.deepEqual(await authUsersOf(database.url, leftover), [])
    assert.ok(!exposed().includes(`demo_${leftover}`))
  })
})

describe('a Supabase project per demo (database.mode supabase-project), through the CLI', () => {
  it('create makes project demo-<id>, migrates and seeds its database, makes Auth users, fills the Secrets; destroy deletes the project', async () => {
    const box = projectSandbox()
    const created = await demo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const view = jsonOf<View>(created)
    const project = [...standIn.projects.values()].find((p) => p.name === `demo-${view.id}`)
    assert.ok(project, 'the stand-in has the project')
    secrets.add(project.password)
    secrets.add(project.serviceRoleKey)
    assert.deepEqual(view.database, {
      mode: 'supabase-project',
      schema: null,
      supabaseProjectId: project.ref,
      supabaseUrl: standIn.projectUrl(project.ref),
      supabaseAnonKey: MASK,
    })
    const env = (await secretOf(view.namespace, 'demo-database')) ?? {}
    rememberSecrets(env)
    assert.deepEqual(Object.keys(env).sort(), ['DATABASE_URL', 'DEMO_ID', 'DEMO_LOGINS', 'DEMO_TYPE', 'SUPABASE_ANON_KEY', 'SUPABASE_URL'])
    assert.equal(env.SUPABASE_ANON_KEY, project.anonKey)
    assert.deepEqual(await secretOf(view.namespace, 'demo-supabase-service-role'), {SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey})
    assert.deepEqual(await authUsersOf(project.databaseUrl, view.id), PERSONAS)
    const seeded = await withClient(
      project.databaseUrl,
      async (c) => (await c.query<{n: number}>('SELECT count(*)::int AS n FROM public.users')).rows[0]?.n,
    )
    assert.ok((seeded ?? 0) > 0)

    const destroyed = await demo(box, ['destroy', view.id, '--yes', '--json'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.equal(standIn.projects.has(project.ref), false)
    assert.ok(standIn.log.some((e) => e.method === 'delete' && e.path === `/v1/projects/${project.ref}` && e.status === 200))
    assert.equal(await namespaceExists(core, view.namespace), false)
  })
})

describe('what the stand-in saw and what the CLI said', () => {
  it('every Management and Auth request was spec-valid, and no token, key or password appears in any output', () => {
    assert.deepEqual(standIn.problems, [])
    assert.ok(standIn.log.some((e) => e.api === 'management') && standIn.log.some((e) => e.api === 'auth'))
    for (const project of [...standIn.projects.values()]) secrets.add(project.serviceRoleKey)
    for (const secret of [...secrets, ...standIn.retiredSecrets()].filter((s) => s.length >= 8 && s !== 'unused')) {
      for (const output of outputs) {
        assert.ok(
          !output.stdout.includes(secret) && !output.stderr.includes(secret),
          `a secret appears in the output of a run:\n${transcript(output)}`,
        )
      }
    }
    assert.ok(
      outputs.some((o) => o.stderr.includes('demo')),
      'DEBUG=demo* output was captured',
    )
  })
})
