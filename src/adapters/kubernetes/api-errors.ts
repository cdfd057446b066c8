import {ClusterAuthError, ClusterError, ClusterUnavailableError, ConflictError, DemoError} from '../../core/errors.js'
import {LOG_IN_AGAIN} from './credentials.js'
import {parseRetryAfterMs, type RetryDecision} from './retry.js'

/**
 * Errors of @kubernetes/client-node, classified by HTTP status or socket error code (STYLE.md), never by
 * their `message`: ApiException.message embeds the whole response body and headers. Only the Status
 * object's own `message` reaches the user.
 */

/** The part of a Kubernetes Status object (the body of an error response) we use. */
export interface KubernetesStatus {
  message?: string
  reason?: string
  details?: {causes?: {field?: string; message?: string; reason?: string}[]}
}

interface ApiErrorLike {
  code: number
  body: unknown
  headers?: Record<string, string>
}

/** Socket and undici error codes after which the request may be sent again. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
])

/**
 * Right after a ResourceQuota is created, quota admission answers 403 "status unknown for quota" until the
 * quota controller has computed status.used. It is the one 403 that is transient, and it has no reason of
 * its own, so this and QUOTA_EXCEEDED are the only places that match message text.
 * https://github.com/kubernetes/kubernetes/blob/v1.36.0/staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go
 */
const QUOTA_NOT_READY = /status unknown for quota/

/**
 * A request refused by a ResourceQuota is a 403 whose only mark is its message ("exceeded quota: ..."), from
 * the same admission plugin; it picks the hint (raise the quota), never the error type or a retry.
 */
const QUOTA_EXCEEDED = /exceeded quota/

function isApiError(error: unknown): error is ApiErrorLike {
  return error instanceof Error && typeof (error as Partial<ApiErrorLike>).code === 'number' && 'body' in error
}

/** The HTTP status of a failed API call, or undefined when the request got no response. */
export function httpStatusOf(error: unknown): number | undefined {
  return isApiError(error) ? error.code : undefined
}

/** The Status object of an error response; client-node 2.x hands the body over as raw JSON text or parsed. */
export function kubernetesStatusOf(error: unknown): KubernetesStatus {
  if (!isApiError(error)) return {}
  let body: unknown = error.body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      return {}
    }
  }
  return body !== null && typeof body === 'object' ? body : {}
}

/**
 * The socket, DNS or TLS error code (or "TIMEOUT" for our per-request deadline) of a request that got no
 * response: undici wraps it as `TypeError: fetch failed` with the code on a cause.
 */
export function networkFailureOf(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current.name === 'TimeoutError') return 'TIMEOUT'
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
    current = current.cause
  }
  return undefined
}

function isTransientNetworkFailure(code: string | undefined): boolean {
  return code === 'TIMEOUT' || (code !== undefined && NETWORK_CODES.has(code))
}

function isTransientStatus(error: unknown, status: number): boolean {
  if (status === 429 || (status >= 500 && status !== 501)) return true
  return status === 403 && QUOTA_NOT_READY.test(kubernetesStatusOf(error).message ?? '')
}

/** Retry 429, 5xx, the transient quota 403, and requests that got no response (every call we make is idempotent or re-checked). */
export function retryDecisionFor(error: unknown, nowMs: number = Date.now()): RetryDecision {
  // Ours already (ClusterAuthError from the credentials' reload): decided, never retried.
  if (error instanceof DemoError) return {retry: false}
  const status = httpStatusOf(error)
  if (status === undefined) return {retry: isTransientNetworkFailure(networkFailureOf(error))}
  if (!isTransientStatus(error, status)) return {retry: false}
  return {retry: true, afterMs: parseRetryAfterMs((error as ApiErrorLike).headers?.['retry-after'], nowMs)}
}

/**
 * The retry rule of a server-side apply. Quota admission charges a create before the object is stored and
 * gives nothing back when the request then fails or our client stops waiting (30 s): the quota controller
 * recounts only every 5 minutes. So once an attempt of this apply has failed in a way we retry (a timeout, a
 * 5xx) the earlier attempt may still be landing, charged, and our retry of the same object is refused with
 * "exceeded quota" (seen as "services=10 used" for a stack of 6 under 20 concurrent creates at load 25). That
 * refusal is retried as well, within the same attempts and budget: once the earlier attempt has stored the
 * object, the retry is an update, which quota does not charge. A first-attempt refusal stays final.
 */
export function applyRetryDecisionFor(error: unknown, earlierAttemptFailed: boolean, nowMs: number = Date.now()): RetryDecision {
  const decision = retryDecisionFor(error, nowMs)
  if (decision.retry || !earlierAttemptFailed) return decision
  return {retry: httpStatusOf(error) === 403 && QUOTA_EXCEEDED.test(kubernetesStatusOf(error).message ?? '')}
}

export interface ErrorContext {
  /** What we tried, as a sentence start: `Cannot apply Deployment "api" in namespace "demo-x"`. */
  what: string
  /** The API server URL, for "cannot reach" messages. */
  server: string
  timeoutMs: number
}

function invalidFields(status: KubernetesStatus): string {
  const fields = (status.details?.causes ?? []).map((c) => c.field).filter((f): f is string => Boolean(f))
  const missing = fields.filter((f) => !(status.message ?? '').includes(f))
  return missing.length > 0 ? ` (fields: ${missing.join(', ')})` : ''
}

function describeStatus(error: unknown, status: number): string {
  const message = kubernetesStatusOf(error).message
  return message ? `${message} (HTTP ${status})` : `HTTP ${status}`
}

function errorForStatus(error: unknown, status: number, context: ErrorContext): DemoError {
  const detail = describeStatus(error, status)
  const options = {cause: error}
  switch (status) {
    case 401: {
      // Every request goes through credentials.ts, which loaded the credentials again and resent it once: still refused.
      return new ClusterAuthError(
        `${context.what}: the API server refused the credentials (HTTP 401), also after loading them again: they have expired or were revoked.`,
        {...options, hint: LOG_IN_AGAIN},
      )
    }
    case 403: {
      const quota = QUOTA_EXCEEDED.test(detail)
      return new ClusterError(`${context.what}: forbidden: ${detail}.`, {
        ...options,
        hint: quota
          ? "Raise `quota` in demo.config.yaml or lower the services' requests."
          : 'Ask a cluster admin for the permission named above, or use another context (--context).',
      })
    }
    case 404: {
      return new ClusterError(`${context.what}: not found: ${detail}.`, options)
    }
    case 409: {
      return new ConflictError(`${context.what}: conflict: ${detail}.`, {
        ...options,
        hint: "Retry; if it persists, run `demo get <id>` to see the demo's state.",
      })
    }
    case 422: {
      return new ClusterError(`${context.what}: invalid: ${detail}${invalidFields(kubernetesStatusOf(error))}.`, {
        ...options,
        hint: 'Fix the template or the demo.config.yaml value named above; `demo create --dry-run` prints the manifests.',
      })
    }
    default: {
      return status === 429 || status >= 500
        ? new ClusterUnavailableError(`${context.what}: the API server is overloaded or failing: ${detail}.`, {
            ...options,
            hint: "Retry in a minute; `kubectl get --raw /readyz` shows the server's health.",
          })
        : new ClusterError(`${context.what}: ${detail}.`, options)
    }
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`
}

/** Network failures of a server that exists but did not answer in time (paused, overloaded): what it did not do. */
const LATE_ANSWERS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'accept the connection',
  ETIMEDOUT: 'accept the connection',
  UND_ERR_HEADERS_TIMEOUT: 'answer',
  UND_ERR_BODY_TIMEOUT: 'finish its answer',
}

/** A DemoError for a failed API call: what failed, on which object, why; never the raw ApiException text. */
export function toClusterError(error: unknown, context: ErrorContext): DemoError {
  if (error instanceof ClusterAuthError)
    return new ClusterAuthError(`${context.what}: ${error.message.replace(/\.$/, '')}.`, {cause: error, hint: error.hint})
  const status = httpStatusOf(error)
  if (status !== undefined) return errorForStatus(error, status, context)
  const network = networkFailureOf(error)
  const hint = `Check that the cluster is running and reachable (\`kubectl cluster-info\`), and the kubeconfig context.`
  if (network === 'TIMEOUT') {
    return new ClusterUnavailableError(`${context.what}: the API server at ${context.server} did not answer within ${formatMs(context.timeoutMs)}.`, {
      cause: error,
      hint,
    })
  }
  // A connect that timed out reached a host that did not complete the handshake: a server that is paused,
  // overloaded or behind a dropping firewall, not one that refused or does not exist.
  const late = LATE_ANSWERS[network ?? '']
  if (late)
    return new ClusterUnavailableError(`${context.what}: the API server at ${context.server} did not ${late} in time (${network}).`, {
      cause: error,
      hint,
    })
  if (network)
    return new ClusterUnavailableError(`${context.what}: cannot reach the API server at ${context.server} (${network}).`, {cause: error, hint})
  const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error)
  return new ClusterError(`${context.what}: ${reason}`, {cause: error})
}
