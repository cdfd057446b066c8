import {readFileSync} from 'node:fs'
import {load as loadYaml} from 'js-yaml'
import ajvFormats from 'ajv-formats'
import {OpenAPIBackend, type Document, type Operation} from 'openapi-backend'

const specsDir = new URL('./specs/', import.meta.url)

/** A request as the stand-in received it (path without the Auth prefix). */
export interface SpecRequest {
  method: string
  path: string
  query: Record<string, string | string[]>
  headers: Record<string, string | string[]>
  body: unknown
}

/**
 * Statuses the Management API answers on any endpoint although the spec lists them only on some: 401 (every
 * operation requires the bearer token), 429 (the rate limit applies to every call:
 * https://supabase.com/docs/reference/api/introduction "Rate limits") and 404 for a project ref that does not exist. Their body is the API's error document, `{message}`. Every other status must be
 * one the operation lists.
 */
const GLOBAL_STATUSES = new Set([401, 404, 429])

/** Validates requests and responses against one official OpenAPI document with openapi-backend (ajv). */
export class SpecValidator {
  private constructor(
    readonly name: string,
    private readonly api: OpenAPIBackend,
  ) {}

  static async load(name: string, definition: Document): Promise<SpecValidator> {
    // date-time, uuid, email ... are checked (ajv-formats); formats no library knows ("phone") are not, quietly.
    const api = new OpenAPIBackend({
      definition,
      validate: true,
      quick: true,
      strict: false,
      coerceTypes: true,
      ajvOpts: {logger: false},
      customizeAjv: (ajv) => {
        ajvFormats.default(ajv)
        return ajv
      },
    })
    await api.init()
    return new SpecValidator(name, api)
  }

  /** The operation the request names, and what is wrong with it (empty when the real API would accept its form). */
  checkRequest(request: SpecRequest): {operation: Operation | undefined; problems: string[]} {
    const operation = this.api.matchOperation(request)
    if (!operation) return {operation, problems: [`${this.name}: ${request.method} ${request.path} is no operation of the spec`]}
    const result = this.api.validateRequest(request, operation)
    const problems = (result.errors ?? []).map((e) => `${this.name} request ${operation.operationId}: ${e.instancePath} ${e.message ?? ''}`.trim())
    return {operation, problems}
  }

  /** What is wrong with a response the stand-in is about to send for `operation` (empty when the spec allows it). */
  checkResponse(operation: Operation, status: number, body: unknown): string[] {
    const listed = Object.keys(operation.responses ?? {})
    const label = `${this.name} response ${operation.operationId} ${status}`
    if (!listed.includes(String(status))) {
      if (GLOBAL_STATUSES.has(status) && this.name === 'management') return isMessage(body) ? [] : [`${label}: body is not {message}`]
      return [`${label}: status not in the spec (${listed.join(', ')})`]
    }
    const response = operation.responses?.[String(status)]
    const hasSchema = response && 'content' in response && response.content?.['application/json']?.schema
    if (!hasSchema) return []
    const result = this.api.validateResponse(body, operation, status)
    return (result.errors ?? []).map((e) => `${label}: ${e.instancePath} ${e.message ?? ''}`.trim())
  }
}

function isMessage(body: unknown): boolean {
  return typeof body === 'object' && body !== null && typeof (body as {message?: unknown}).message === 'string'
}

export function managementSpec(): Document {
  return JSON.parse(readFileSync(new URL('supabase-management-api-v1.openapi.json', specsDir), 'utf8')) as Document
}

/**
 * The Auth spec, with one documented supplement: `POST /admin/users`, the call behind supabase-js
 * `auth.admin.createUser`, which the official supabase-auth-openapi.yaml does not list (GET /admin/users and
 * DELETE /admin/users/{userId} it does). Its request follows supabase-js's AdminUserAttributes, its answer is the
 * spec's own UserSchema. Operations get ids ("get /admin/users") since the Auth spec has none.
 */
export function authSpec(): Document {
  const doc = loadYaml(readFileSync(new URL('supabase-auth-openapi.yaml', specsDir), 'utf8')) as Document
  const users = doc.paths?.['/admin/users'] as Record<string, unknown>
  users.post = {
    summary: 'Create a user (supabase-js auth.admin.createUser). SUPPLEMENT: not in the official spec.',
    security: [{APIKeyAuth: [], AdminAuth: []}],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            additionalProperties: false,
            properties: {
              email: {type: 'string', format: 'email'},
              password: {type: 'string', minLength: 6},
              email_confirm: {type: 'boolean'},
              user_metadata: {type: 'object'},
              app_metadata: {type: 'object'},
              role: {type: 'string'},
            },
            required: ['email'],
          },
        },
      },
    },
    responses: {
      200: {description: 'The user.', content: {'application/json': {schema: {$ref: '#/components/schemas/UserSchema'}}}},
      422: {description: 'Refused.', content: {'application/json': {schema: {$ref: '#/components/schemas/ErrorSchema'}}}},
    },
  }
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, unknown>)) {
      if (op && typeof op === 'object' && 'responses' in op && !('operationId' in op)) Object.assign(op, {operationId: `${method} ${path}`})
    }
  }
  return doc
}
