import type {KubeConfig, PromiseHttpLibrary, RequestContext, ResponseContext, SecurityAuthentication} from '@kubernetes/client-node'
import {ClusterAuthError, DemoError} from '../../core/errors.js'

/** The client's connection pool (an undici Dispatcher). */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>

/**
 * The credentials of a kubeconfig context, loaded again on demand (fault matrix T15). A token from an exec plugin
 * or an OIDC provider can expire or be revoked in the middle of a command; the client caches it (an exec plugin's
 * token without an expirationTimestamp forever), so loading again means a new KubeConfig: the file read again, the
 * plugin run again. Every client of the adapter authenticates through this object, so all of them use the new one.
 */
export class ReloadableCredentials implements SecurityAuthentication {
  private current: KubeConfig
  private loaded = 0
  private reloading: Promise<void> | undefined
  /** The connection pool of the kubeconfig as last loaded (see applySecurityAuthentication). */
  private pool: {of: KubeConfig; dispatcher: Dispatcher} | undefined

  constructor(private readonly load: () => KubeConfig) {
    this.current = load()
  }

  /** The kubeconfig as last loaded. */
  get kubeConfig(): KubeConfig {
    return this.current
  }

  /** How many times the credentials were loaded again: a request remembers it, to tell whether another one already did. */
  get generation(): number {
    return this.loaded
  }

  getName(): string {
    return 'kubeconfig authentication (reloadable)'
  }

  /**
   * Sets the request's headers (its token, from an exec plugin if need be) and its connection pool. The client
   * makes a new pool for every request, so every request paid a new TCP connection and TLS handshake (~1 ms of
   * CPU on each side, and the CA file read again); a create sent ~190 of them. Requests now share the first pool
   * made for the kubeconfig as loaded, and a kubeconfig loaded again (after a 401) gets a new one, so a client
   * certificate renewed by an exec plugin is used from the next 401 on, as a token is.
   */
  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const config = this.current
    await config.applySecurityAuthentication(context)
    const made = context.getDispatcher()
    if (made === undefined) return
    if (this.pool?.of !== config) {
      const old = this.pool?.dispatcher
      this.pool = {of: config, dispatcher: made}
      // Requests in flight on the old pool finish; it closes after them.
      void old?.close().catch(() => undefined)
      return
    }
    context.setDispatcher(this.pool.dispatcher)
    // The pool the client just made never connected; closing it frees nothing but its handle.
    void made.close().catch(() => undefined)
  }

  /**
   * Loads the kubeconfig again, unless it was loaded again since `seen` (the generation a refused request was sent
   * with): eight parallel applies refused at once load it once. Throws what loading throws (a UsageError for a file
   * that is gone or broken).
   */
  async reloadSince(seen: number): Promise<void> {
    if (this.loaded > seen) return this.reloading
    this.reloading ??= Promise.resolve().then(() => {
      this.current = this.load()
      this.loaded += 1
    })
    try {
      await this.reloading
    } finally {
      this.reloading = undefined
    }
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return (text.split('\n').find((line) => line.trim() !== '') ?? 'no reason given').trim().slice(0, 200)
}

/** Authenticates `context` anew with the current credentials (an exec plugin runs again here); a failure is ClusterAuthError. */
async function reauthenticate(credentials: ReloadableCredentials, context: RequestContext): Promise<void> {
  const headers = context.getHeaders()
  delete headers.Authorization
  delete headers.authorization
  try {
    await credentials.applySecurityAuthentication(context)
  } catch (error) {
    throw new ClusterAuthError(`the API server refused the credentials (HTTP 401), and getting new ones failed: ${firstLine(error)}`, {
      cause: error,
      hint: LOG_IN_AGAIN,
    })
  }
}

export const LOG_IN_AGAIN =
  "Log in to the cluster again (your provider's login command, e.g. `gcloud container clusters get-credentials` or `aws eks update-kubeconfig`, refreshes the kubeconfig), then retry."

/**
 * Wraps the HTTP library of every client: a request the API server answers 401 (the credentials expired or were
 * revoked since they were loaded) loads the credentials again once and is sent once more, with a fresh deadline.
 * A second 401 is returned as it is (the client raises it; api-errors.ts makes it ClusterAuthError); a kubeconfig
 * that cannot be loaded again, or an exec plugin that fails, throws ClusterAuthError. Resending is safe: the
 * server authenticates before it does anything, so a 401 means the request changed nothing.
 */
export function reloadingOnUnauthorized(inner: PromiseHttpLibrary, credentials: ReloadableCredentials, timeoutMs: number): PromiseHttpLibrary {
  return {
    send: async (context: RequestContext): Promise<ResponseContext> => {
      const seen = credentials.generation
      const response = await inner.send(context)
      if (response.httpStatusCode !== 401) return response
      // Read the refused answer to the end, so its connection goes back to the pool.
      await response.body.text().catch(() => '')
      try {
        await credentials.reloadSince(seen)
      } catch (error) {
        const reason = error instanceof DemoError ? error.message : firstLine(error)
        throw new ClusterAuthError(`the API server refused the credentials (HTTP 401), and loading the kubeconfig again failed: ${reason}`, {
          cause: error,
          hint: LOG_IN_AGAIN,
        })
      }
      await reauthenticate(credentials, context)
      context.setSignal(AbortSignal.timeout(timeoutMs))
      return inner.send(context)
    },
  }
}
