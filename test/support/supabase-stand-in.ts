import {randomBytes, randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Operation} from 'openapi-backend'
import pg from 'pg'
import {authSpec, managementSpec, SpecValidator, type SpecRequest} from './spec-validator.js'
import {dropDatabase as dropTestDatabase} from './databases.js'

/** One fake Supabase project: its database is a real Postgres database on the test server. */
export interface StandInProject {
  ref: string
  name: string
  organization: string
  region: string
  createdAt: string
  /** How many GETs of the project it still answers COMING_UP (Infinity: never healthy). */
  comingUpPolls: number
  password: string
  databaseUrl: string
  /** Whether deleting the project drops its database (false for a shared project that uses the run's database). */
  ownsDatabase: boolean
  dbSchema: string
  anonKey: string
  serviceRoleKey: string
}

/** An answer to force on the next `times` requests whose "METHOD path" matches (429 with Retry-After, 500 ...). */
export interface Fault {
  match: RegExp
  status: number
  headers?: Record<string, string>
  body?: unknown
  times: number
}

export interface LogEntry {
  method: string
  path: string
  status: number
  /** Which spec checked the request; `postgrest` requests are not in either spec and are checked by hand (see serveRest). */
  api: 'management' | 'auth' | 'postgrest'
}

/** The roles of Supabase's Data API; a Supabase project's Postgres has them, the test server gets them here. */
export const DATA_API_ROLES = ['anon', 'authenticated', 'service_role']

/**
 * Creates anon, authenticated and service_role on the server of `adminUrl` when missing (they are server-wide, so
 * a concurrent run may create them first), and makes the connecting role a member, so the stand-in's Data API can
 * SET ROLE to them as PostgREST's authenticator does.
 */
export async function ensureDataApiRoles(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    for (const role of DATA_API_ROLES) {
      try {
        await client.query(`CREATE ROLE ${role} NOLOGIN`)
      } catch (error) {
        const code = (error as {code?: string}).code
        if (code !== '42710' && code !== '23505') throw error
      }
      await client.query(`GRANT ${role} TO CURRENT_USER`)
    }
  })
}

type Answer = {status: number; body?: unknown; headers?: Record<string, string>}
type Handler = (request: SpecRequest, params: Record<string, string>, project: StandInProject | undefined) => Promise<Answer>

const ALPHA = 'abcdefghijklmnopqrstuvwxyz'

function newRef(): string {
  return Array.from(randomBytes(20), (b) => ALPHA[b % 26]).join('')
}

/**
 * A local stand-in for the Supabase Management API and each project's Auth API, answering just the calls demo
 * makes. It checks EVERY request it receives and EVERY response it sends against the official specs
 * (test/support/specs/, openapi-backend + ajv): a request the real API would reject gets 400 and is recorded in
 * `problems`; a response the spec does not allow is recorded and replaced by a 500. Tests assert `problems` is
 * empty. Each project's database is a real database on the test Postgres; Auth users live in its `auth.users`.
 */
export class SupabaseStandIn {
  readonly projects = new Map<string, StandInProject>()
  readonly log: LogEntry[] = []
  readonly problems: string[] = []
  readonly faults: Fault[] = []
  /** GETs of a new project answered COMING_UP before it is ACTIVE_HEALTHY. */
  comingUpPolls = 2
  organizationPlan: 'free' | 'pro' = 'pro'
  /** Test hook: breaks the next response of an operation (to prove response checking works). */
  corruptNext: string | undefined
  private readonly retired: StandInProject[] = []
  private readonly deleted: StandInProject[] = []
  private server!: Server
  url = ''

  private constructor(
    private readonly management: SpecValidator,
    private readonly auth: SpecValidator,
    readonly options: {token: string; organization: string; adminUrl: string},
  ) {}

  static async start(options: {token: string; organization: string; adminUrl: string}): Promise<SupabaseStandIn> {
    const standIn = new SupabaseStandIn(
      await SpecValidator.load('management', managementSpec()),
      await SpecValidator.load('auth', authSpec()),
      options,
    )
    standIn.server = createServer((req, res) => {
      standIn.serve(req, res).catch((error: unknown) => {
        standIn.problems.push(`stand-in crashed: ${String(error)}`)
        res.writeHead(500).end()
      })
    })
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve))
    standIn.url = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`
    return standIn
  }

  /** The URL supabase-js is given for a project (its Auth API is under /auth/v1 of it). */
  projectUrl(ref: string): string {
    return `${this.url}/p/${ref}`
  }

  /** The project's database as the adapter would reach it with `password`; refuses a password the project does not have. */
  databaseUrl(ref: string, password: string): string {
    const project = this.projects.get(ref)
    if (!project) throw new Error(`stand-in: no project ${ref}`)
    if (project.password !== password) throw new Error(`stand-in: wrong database password for project ${ref}`)
    return project.databaseUrl
  }

  /** A project that exists before the test (the shared project of shared-schema on Supabase), over an existing database. */
  addSharedProject(databaseUrl: string): StandInProject {
    const project = this.newProject({name: 'shared', organization: this.options.organization, region: 'eu-west-1', password: 'unused'}, databaseUrl)
    project.comingUpPolls = 0
    project.ownsDatabase = false
    return project
  }

  /** Every password and service-role key the stand-in has handed out or received, to check none leaks. */
  retiredSecrets(): string[] {
    return [...this.projects.values(), ...this.retired, ...this.deleted].flatMap((p) => [p.password, p.serviceRoleKey])
  }

  /** Starts an empty world (a contract suite's fresh adapter); the databases of the projects forgotten are dropped by close(). */
  forgetProjects(): void {
    this.retired.push(...this.projects.values())
    this.projects.clear()
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const project of [...this.projects.values(), ...this.retired]) await this.dropDatabase(project)
  }

  private newProject(
    input: {name: string; organization: string; region: string; password: string},
    databaseUrl: string,
    ref = newRef(),
  ): StandInProject {
    const project: StandInProject = {
      ...input,
      ref,
      createdAt: new Date().toISOString(),
      comingUpPolls: this.comingUpPolls,
      databaseUrl,
      ownsDatabase: true,
      dbSchema: 'public,graphql_public',
      anonKey: `anon.${randomBytes(12).toString('hex')}`,
      serviceRoleKey: `service.${randomBytes(12).toString('hex')}`,
    }
    this.projects.set(ref, project)
    return project
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await readRequest(req)
    const rest = /^\/p\/([a-z]{20})\/rest\/v1\/([^/]+)$/.exec(request.path)
    if (rest) {
      const answer = await this.serveRest(request, rest[1] ?? '', decodeURIComponent(rest[2] ?? ''))
      this.log.push({method: request.method, path: request.path, status: answer.status, api: 'postgrest'})
      res.writeHead(answer.status, {'content-type': 'application/json', ...answer.headers})
      res.end(answer.body === undefined || request.method === 'head' ? '' : JSON.stringify(answer.body))
      return
    }
    const authPrefix = /^\/p\/([a-z]{20})\/auth\/v1(\/.*)$/.exec(request.path)
    const validator = authPrefix ? this.auth : this.management
    const specRequest = authPrefix ? {...request, path: authPrefix[2] ?? '/'} : request
    const answer = await this.answer(validator, specRequest, authPrefix?.[1])
    this.log.push({method: request.method, path: request.path, status: answer.status, api: authPrefix ? 'auth' : 'management'})
    res.writeHead(answer.status, {'content-type': 'application/json', ...answer.headers})
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body))
  }

  private async answer(validator: SpecValidator, request: SpecRequest, authRef: string | undefined): Promise<Answer> {
    const {operation, problems} = validator.checkRequest(request)
    if (!operation || problems.length > 0) {
      this.problems.push(...problems)
      return {status: 400, body: {message: 'stand-in: request does not match the spec'}}
    }
    const fault = this.takeFault(request)
    const answer = fault ?? (await this.handle(validator, operation, request, authRef))
    if (this.corruptNext === operation.operationId) {
      this.corruptNext = undefined
      answer.body = {unexpected: true}
    }
    const responseProblems = validator.checkResponse(operation, answer.status, answer.body)
    if (responseProblems.length === 0) return answer
    this.problems.push(...responseProblems)
    return {status: 500, body: {message: 'stand-in: response does not match the spec'}}
  }

  private takeFault(request: SpecRequest): Answer | undefined {
    const fault = this.faults.find((f) => f.times > 0 && f.match.test(`${request.method} ${request.path}`))
    if (!fault) return undefined
    fault.times -= 1
    return {status: fault.status, body: fault.body ?? {message: `stand-in fault ${fault.status}`}, ...(fault.headers ? {headers: fault.headers} : {})}
  }

  private async handle(validator: SpecValidator, operation: Operation, request: SpecRequest, authRef: string | undefined): Promise<Answer> {
    const params = (operation as Operation & {pathParams?: Record<string, string>}).pathParams ?? pathParams(operation.path, request.path)
    const ref = authRef ?? params.ref
    const project = ref ? this.projects.get(ref) : undefined
    if (validator === this.auth) return this.handleAuth(operation.operationId ?? '', request, params, project)
    if (!this.isAuthorized(request)) return {status: 401, body: {message: 'Unauthorized'}}
    if (ref && !project) return {status: 404, body: {message: 'Project not found'}}
    const handler = this.managementHandlers[operation.operationId ?? '']
    if (!handler) throw new Error(`stand-in: ${operation.operationId} is not implemented`)
    return handler(request, params, project)
  }

  /**
   * A minimal PostgREST (the Data API is in neither spec, so this part is checked by hand and kept to what demo
   * health sends): a HEAD or GET count of one table, in the schema of Accept-Profile, which must be one the project
   * exposes (else 406 PGRST106, as PostgREST answers), run for real in the project's database as the role of the
   * key (anon or service_role), so missing grants fail as they would on Supabase (42501 → 401).
   */
  private async serveRest(request: SpecRequest, ref: string, table: string): Promise<Answer> {
    const project = this.projects.get(ref)
    if (!project) return {status: 404, body: {message: 'no such project'}}
    const key = request.headers.apikey
    const role = key === project.anonKey ? 'anon' : key === project.serviceRoleKey ? 'service_role' : undefined
    if (!role) return {status: 401, body: {message: 'Invalid API key'}}
    if (request.method !== 'head' && request.method !== 'get') this.problems.push(`postgrest: ${request.method} is not served by the stand-in`)
    const exposed = project.dbSchema.split(',').map((s) => s.trim())
    const schema = String(request.headers['accept-profile'] ?? exposed[0])
    if (!exposed.includes(schema)) return {status: 406, body: {code: 'PGRST106', message: `Invalid schema: ${schema}`, details: null, hint: null}}
    if (!/^[a-z_][a-z0-9_]*$/.test(table) || !/count=exact/.test(String(request.headers.prefer ?? ''))) {
      this.problems.push(`postgrest: unexpected request ${request.method} ${table} prefer=${String(request.headers.prefer)}`)
      return {status: 400, body: {message: 'stand-in: only exact counts are served'}}
    }
    return withClient(project.databaseUrl, async (client) => {
      try {
        await client.query('BEGIN')
        await client.query(`SET LOCAL ROLE ${role}`)
        const {rows} = await client.query<{n: number}>(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`)
        const n = rows[0]?.n ?? 0
        return {status: 200, body: [], headers: {'content-range': n > 0 ? `0-${n - 1}/${n}` : '*/0'}}
      } catch (error) {
        const code = (error as {code?: string}).code
        if (code === '42501') return {status: 401, body: {code, message: 'permission denied', details: null, hint: null}}
        if (code === '42P01' || code === '3F000')
          return {status: 404, body: {code: 'PGRST205', message: 'relation not found', details: null, hint: null}}
        throw error
      } finally {
        await client.query('ROLLBACK')
      }
    })
  }

  private isAuthorized(request: SpecRequest): boolean {
    return request.headers.authorization === `Bearer ${this.options.token}`
  }

  private readonly managementHandlers: Record<string, Handler> = {
    'v1-create-a-project': async (request) => {
      const body = request.body as {name: string; organization_slug: string; db_pass: string; region_selection?: {code: string}}
      if (body.organization_slug !== this.options.organization) return {status: 404, body: {message: 'Organization not found'}}
      const ref = newRef()
      const databaseUrl = await this.createDatabase(ref)
      const project = this.newProject(
        {name: body.name, organization: body.organization_slug, region: body.region_selection?.code ?? 'us-east-1', password: body.db_pass},
        databaseUrl,
        ref,
      )
      return {status: 201, body: projectBody(project, 'COMING_UP')}
    },
    'v1-list-all-projects': async () => ({status: 200, body: [...this.projects.values()].map((p) => withDatabase(p, statusOf(p)))}),
    'v1-get-project': async (_request, _params, project) => {
      const p = project as StandInProject
      const status = statusOf(p)
      if (p.comingUpPolls > 0) p.comingUpPolls -= 1
      return {status: 200, body: withDatabase(p, status)}
    },
    'v1-delete-a-project': async (_request, _params, project) => {
      const p = project as StandInProject
      this.projects.delete(p.ref)
      this.deleted.push(p)
      await this.dropDatabase(p)
      return {status: 200, body: {id: 1, ref: p.ref, name: p.name}}
    },
    'v1-get-project-api-keys': async (_request, _params, project) => ({
      status: 200,
      body: [
        {name: 'anon', api_key: project?.anonKey, type: 'legacy', id: 'anon'},
        {name: 'service_role', api_key: project?.serviceRoleKey, type: 'legacy', id: 'service_role'},
      ],
    }),
    'v1-update-database-password': async (request, _params, project) => {
      ;(project as StandInProject).password = (request.body as {password: string}).password
      return {status: 200, body: {message: 'ok'}}
    },
    'v1-get-an-organization': async (_request, params) =>
      params.slug === this.options.organization
        ? {status: 200, body: {id: params.slug, name: params.slug, plan: this.organizationPlan, opt_in_tags: [], allowed_release_channels: ['ga']}}
        : {status: 404, body: {message: 'Organization not found'}},
    'v1-get-postgrest-service-config': async (_request, _params, project) => ({status: 200, body: postgrestBody(project as StandInProject)}),
    'v1-update-postgrest-service-config': async (request, _params, project) => {
      const p = project as StandInProject
      const body = request.body as {db_schema?: string}
      if (body.db_schema !== undefined) p.dbSchema = body.db_schema
      return {status: 200, body: postgrestBody(p)}
    },
  }

  private async handleAuth(
    operationId: string,
    request: SpecRequest,
    params: Record<string, string>,
    project: StandInProject | undefined,
  ): Promise<Answer> {
    if (!project) return {status: 404, body: {msg: 'no such project'}}
    const key = request.headers.apikey
    if (key !== project.serviceRoleKey || request.headers.authorization !== `Bearer ${project.serviceRoleKey}`) {
      return {status: 401, body: {msg: 'This endpoint requires a valid service_role key'}}
    }
    return withClient(project.databaseUrl, async (client) => {
      await client.query(`CREATE SCHEMA IF NOT EXISTS auth; CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY, email text UNIQUE NOT NULL,
        raw_user_meta_data jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now())`)
      if (operationId === 'post /admin/users') return createUser(client, request.body as {email: string; user_metadata?: object})
      if (operationId === 'get /admin/users') return listUsers(client, request.query)
      if (operationId === 'get /admin/users/{userId}') return getUser(client, params.userId ?? '')
      if (operationId === 'delete /admin/users/{userId}') return deleteUser(client, params.userId ?? '')
      throw new Error(`stand-in: auth ${operationId} is not implemented`)
    })
  }

  /**
   * What a CLI run is given as DEMO_SUPABASE_DATABASE_URL_TEMPLATE: a project's database is `<run database>_sb_<ref>`
   * on the test server, reached with the test role (the stand-in does not check the project's password this way).
   */
  databaseUrlTemplate(): string {
    const url = new URL(this.options.adminUrl)
    return `${url.protocol}//${url.username}:${url.password}@${url.host}${url.pathname}_sb_{ref}`
  }

  /** What a CLI run is given as DEMO_SUPABASE_PROJECT_URL_TEMPLATE. */
  projectUrlTemplate(): string {
    return `${this.url}/p/{ref}`
  }

  private async createDatabase(ref: string): Promise<string> {
    const base = new URL(this.options.adminUrl)
    const name = `${base.pathname.slice(1)}_sb_${ref}`
    if (name.length > 63) throw new Error(`stand-in: database name ${name} is too long`)
    await withClient(base.toString(), (c) => c.query(`CREATE DATABASE "${name}"`))
    const url = new URL(base)
    url.pathname = `/${name}`
    return url.toString()
  }

  private async dropDatabase(project: StandInProject): Promise<void> {
    if (!project.ownsDatabase) return
    const name = new URL(project.databaseUrl).pathname.slice(1)
    await dropTestDatabase(this.options.adminUrl, name)
  }
}

function statusOf(project: StandInProject): string {
  return project.comingUpPolls > 0 ? 'COMING_UP' : 'ACTIVE_HEALTHY'
}

function projectBody(p: StandInProject, status: string): Record<string, unknown> {
  return {
    id: p.ref,
    ref: p.ref,
    organization_id: p.organization,
    organization_slug: p.organization,
    name: p.name,
    region: p.region,
    created_at: p.createdAt,
    status,
  }
}

function withDatabase(p: StandInProject, status: string): Record<string, unknown> {
  return {...projectBody(p, status), database: {host: `db.${p.ref}.supabase.co`, version: '17.4', postgres_engine: '17', release_channel: 'ga'}}
}

function postgrestBody(p: StandInProject): Record<string, unknown> {
  return {db_schema: p.dbSchema, max_rows: 1000, db_extra_search_path: 'public, extensions', db_pool: null}
}

function userBody(row: {id: string; email: string; raw_user_meta_data: object; created_at: Date}): Record<string, unknown> {
  return {
    id: row.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: row.email,
    user_metadata: row.raw_user_meta_data,
    app_metadata: {},
    created_at: row.created_at.toISOString(),
  }
}

type UserRow = {id: string; email: string; raw_user_meta_data: object; created_at: Date}

async function createUser(client: pg.Client, body: {email: string; user_metadata?: object}): Promise<Answer> {
  const result = await client.query<UserRow>(
    'INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING RETURNING *',
    [randomUUID(), body.email, JSON.stringify(body.user_metadata ?? {})],
  )
  const row = result.rows[0]
  if (!row) return {status: 422, body: {code: 422, error_code: 'email_exists', msg: 'A user with this email address has already been registered'}}
  return {status: 200, body: userBody(row)}
}

async function listUsers(client: pg.Client, query: SpecRequest['query']): Promise<Answer> {
  const page = Number(query.page ?? 1)
  const perPage = Number(query.per_page ?? 50)
  const rows = await client.query<UserRow>('SELECT * FROM auth.users ORDER BY created_at, id LIMIT $1 OFFSET $2', [perPage, (page - 1) * perPage])
  return {status: 200, body: {aud: 'authenticated', users: rows.rows.map(userBody)}}
}

async function getUser(client: pg.Client, id: string): Promise<Answer> {
  const rows = await client.query<UserRow>('SELECT * FROM auth.users WHERE id = $1', [id])
  const row = rows.rows[0]
  return row ? {status: 200, body: userBody(row)} : {status: 404, body: {code: 404, error_code: 'user_not_found', msg: 'User not found'}}
}

async function deleteUser(client: pg.Client, id: string): Promise<Answer> {
  const rows = await client.query<UserRow>('DELETE FROM auth.users WHERE id = $1 RETURNING *', [id])
  const row = rows.rows[0]
  return row ? {status: 200, body: userBody(row)} : {status: 404, body: {code: 404, error_code: 'user_not_found', msg: 'User not found'}}
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

function pathParams(template: string, path: string): Record<string, string> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '')
  const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '([^/]+)')}$`)
  const values = pattern.exec(path)?.slice(1) ?? []
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(values[i] ?? '')]))
}

async function readRequest(req: IncomingMessage): Promise<SpecRequest> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  const url = new URL(req.url ?? '/', 'http://stand-in')
  const query: Record<string, string | string[]> = {}
  for (const [key, value] of url.searchParams) query[key] = value
  const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string | string[]] => e[1] !== undefined))
  return {method: (req.method ?? 'GET').toLowerCase(), path: url.pathname, query, headers, body: text ? (JSON.parse(text) as unknown) : undefined}
}
