import createClient, {type Client} from 'openapi-fetch'
import type {NewSupabaseProject, SupabaseApiKeys, SupabaseManagement, SupabaseProject} from '../../core/ports.js'
import {SupabaseAuthError, SupabaseError, SupabaseUnavailableError} from '../../core/errors.js'
import {withRetry, parseRetryAfterMs, type RetryHooks, type RetryOptions} from '../kubernetes/retry.js'
import type {components, paths} from './management-api.generated.js'

export const SUPABASE_API_URL = 'https://api.supabase.com'

/**
 * The Management API allows 120 requests a minute per user and per project or organization
 * (https://supabase.com/docs/reference/api/introduction, "Rate limits"). demo makes a handful of calls per demo
 * and polls a project at most every 2 s (30 a minute, polling.ts), so it stays well inside; a 429 is still
 * retried after the Retry-After the API sends.
 */
export const SUPABASE_RETRY: RetryOptions = {
  attempts: 6,
  attemptsWhenAskedToWait: 6,
  baseDelayMs: 1000,
  maxDelayMs: 16_000,
  maxRetryAfterMs: 60_000,
  budgetMs: 120_000,
}

export interface ManagementClientOptions {
  /** SUPABASE_ACCESS_TOKEN. Sent only in the Authorization header; never in a message. */
  token: string
  baseUrl?: string | undefined
  /** Bound of each attempt. */
  timeoutMs?: number | undefined
  retry?: RetryOptions | undefined
  /** Time and randomness of the retries (tests pass a fake clock). */
  hooks?: RetryHooks | undefined
}

/** A response worth another attempt, carried through withRetry; the last one is returned as it is. */
class RetryableResponse extends Error {
  constructor(readonly response: Response) {
    super(`HTTP ${response.status}`)
  }
}

/** POST is not idempotent (a second POST /v1/projects makes a second project): it is retried only on 429, which the API answers before acting. */
function isIdempotent(method: string): boolean {
  return method !== 'POST'
}

function isRetryable(status: number, method: string): boolean {
  return status === 429 || (status >= 500 && isIdempotent(method))
}

/** A fetch that bounds each attempt by a timeout and retries 429 and 5xx (idempotent calls also on network errors) with backoff and jitter. */
export function retryingFetch(options: {timeoutMs: number; retry: RetryOptions; hooks: RetryHooks}): (request: Request) => Promise<Response> {
  const now = options.hooks.now ?? Date.now
  return async (request) => {
    const attempt = async (): Promise<Response> => {
      const response = await fetch(request.clone(), {signal: AbortSignal.timeout(options.timeoutMs)})
      if (isRetryable(response.status, request.method)) throw new RetryableResponse(response)
      return response
    }
    const decide = (error: unknown): {retry: boolean; afterMs?: number | undefined} => {
      if (error instanceof RetryableResponse)
        return {retry: true, afterMs: parseRetryAfterMs(error.response.headers.get('retry-after') ?? undefined, now())}
      return {retry: isIdempotent(request.method)}
    }
    try {
      return await withRetry(attempt, decide, options.retry, options.hooks)
    } catch (error) {
      if (error instanceof RetryableResponse) return error.response
      throw new SupabaseUnavailableError(
        `Supabase API ${request.method} ${new URL(request.url).pathname}: no answer (${describeNetworkError(error)}).`,
        {
          hint: 'Check the network and https://status.supabase.com, then run the command again.',
          cause: error,
        },
      )
    }
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out'
  return error instanceof Error ? error.message : String(error)
}

type Project = components['schemas']['V1ProjectResponse'] | components['schemas']['V1ProjectWithDatabaseResponse']

function toProject(project: Project): SupabaseProject {
  return {
    ref: project.ref,
    name: project.name,
    status: project.status,
    organization: project.organization_slug,
    databaseHost: 'database' in project ? project.database.host : null,
  }
}

/** What the API said when it refused, without anything of ours in it: the status and the API's own `message`, cut short. */
function apiMessage(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return `: ${body.message.slice(0, 200)}`
  return ''
}

/** Classifies a refused call by its HTTP status, never by its text (STYLE.md). */
export function refusal(call: string, response: Response, body: unknown): SupabaseError {
  const message = `Supabase API ${call} answered ${response.status}${apiMessage(body)}.`
  if (response.status === 401 || response.status === 403) {
    return new SupabaseAuthError(message, {
      hint: 'Set SUPABASE_ACCESS_TOKEN to a personal access token that may manage this organization (supabase.com/dashboard/account/tokens).',
    })
  }
  if (response.status === 429 || response.status >= 500) {
    return new SupabaseUnavailableError(message, {hint: 'The API is busy or failing; wait a minute and run the command again.'})
  }
  return new SupabaseError(message)
}

interface Answer<T> {
  data?: T
  error?: unknown
  response: Response
}

function dataOf<T>(call: string, answer: Answer<T>): T {
  if (answer.response.ok && answer.data !== undefined) return answer.data
  throw refusal(call, answer.response, answer.error)
}

/** The Management API through openapi-fetch, typed by the official spec (management-api.generated.ts, `npm run supabase:types`). */
export class SupabaseManagementApi implements SupabaseManagement {
  private readonly client: Client<paths>

  constructor(options: ManagementClientOptions) {
    this.client = createClient<paths>({
      baseUrl: options.baseUrl ?? SUPABASE_API_URL,
      headers: {Authorization: `Bearer ${options.token}`},
      fetch: retryingFetch({timeoutMs: options.timeoutMs ?? 30_000, retry: options.retry ?? SUPABASE_RETRY, hooks: options.hooks ?? {}}),
    })
  }

  async createProject(project: NewSupabaseProject): Promise<SupabaseProject> {
    const body: components['schemas']['V1CreateProjectBody'] = {
      name: project.name,
      organization_slug: project.organization,
      db_pass: project.databasePassword,
      region_selection: {type: 'specific', code: project.region as 'us-east-1'},
      ...(project.plan ? {plan: project.plan} : {}),
    }
    return toProject(dataOf('POST /v1/projects', await this.client.POST('/v1/projects', {body})))
  }

  async project(ref: string): Promise<SupabaseProject | undefined> {
    const answer = await this.client.GET('/v1/projects/{ref}', {params: {path: {ref}}})
    if (answer.response.status === 404) return undefined
    return toProject(dataOf(`GET /v1/projects/${ref}`, answer))
  }

  async projects(): Promise<SupabaseProject[]> {
    return dataOf('GET /v1/projects', await this.client.GET('/v1/projects')).map(toProject)
  }

  async deleteProject(ref: string): Promise<boolean> {
    const answer = await this.client.DELETE('/v1/projects/{ref}', {params: {path: {ref}}})
    if (answer.response.status === 404) return false
    dataOf(`DELETE /v1/projects/${ref}`, answer)
    return true
  }

  async apiKeys(ref: string): Promise<SupabaseApiKeys> {
    const call = `GET /v1/projects/${ref}/api-keys`
    const keys = dataOf(call, await this.client.GET('/v1/projects/{ref}/api-keys', {params: {path: {ref}, query: {reveal: true}}}))
    const byName = (name: string): string | undefined => keys.find((k) => k.name === name)?.api_key ?? undefined
    const anon = byName('anon')
    const serviceRole = byName('service_role')
    if (!anon || !serviceRole) throw new SupabaseError(`Supabase API ${call}: the project has no anon or service_role key yet.`)
    return {anon, serviceRole}
  }

  async setDatabasePassword(ref: string, password: string): Promise<void> {
    const answer = await this.client.PATCH('/v1/projects/{ref}/database/password', {params: {path: {ref}}, body: {password}})
    dataOf(`PATCH /v1/projects/${ref}/database/password`, answer)
  }

  async organizationPlan(slug: string): Promise<string | undefined> {
    return dataOf(`GET /v1/organizations/${slug}`, await this.client.GET('/v1/organizations/{slug}', {params: {path: {slug}}})).plan
  }

  async exposedSchemas(ref: string): Promise<string[]> {
    const config = dataOf(`GET /v1/projects/${ref}/postgrest`, await this.client.GET('/v1/projects/{ref}/postgrest', {params: {path: {ref}}}))
    return splitSchemas(config.db_schema)
  }

  async setExposedSchemas(ref: string, schemas: string[]): Promise<void> {
    const answer = await this.client.PATCH('/v1/projects/{ref}/postgrest', {params: {path: {ref}}, body: {db_schema: schemas.join(',')}})
    dataOf(`PATCH /v1/projects/${ref}/postgrest`, answer)
  }
}

/** PostgREST's db-schemas is a comma-separated list ("public, graphql_public"). */
export function splitSchemas(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}
