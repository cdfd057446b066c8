import type {KubeConfig} from '@kubernetes/client-node'
import type {Agent} from 'node:http'
import type {RequestOptions} from 'node:https'
import {ClusterAuthError, DemoError} from '../../core/errors.js'

/** How to authenticate one request, as the kubeconfig says now (transport.ts sends it). */
export interface Authentication {
  /** Authorization (a token, from an exec plugin if need be, or basic), Impersonate-User. */
  headers: Record<string, string>
  /** For an https server: its CA, the client certificate and key, the name to verify, whether to verify. */
  tls: TlsMaterial
  /** The kubeconfig's proxy-url, as the client's agent for it (used as it is, without a pool of ours). */
  proxyAgent?: Agent | undefined
}

export interface TlsMaterial {
  ca?: string | Buffer | undefined
  cert?: string | Buffer | undefined
  key?: string | Buffer | undefined
  servername?: string | undefined
  rejectUnauthorized?: boolean | undefined
}

/**
 * The credentials of a kubeconfig context, loaded again on demand (fault matrix T15). A token from an exec plugin
 * or an OIDC provider can expire or be revoked in the middle of a command; the client caches it (an exec plugin's
 * token without an expirationTimestamp forever), so loading again means a new KubeConfig: the file read again, the
 * plugin run again. Every client of the adapter authenticates through this object, so all of them use the new one.
 */
export class ReloadableCredentials {
  private current: KubeConfig
  private loaded = 0
  private reloading: Promise<void> | undefined

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

  /**
   * The headers and TLS material of one request, from the kubeconfig as last loaded: the client reads the
   * certificate files and runs the exec plugin (which caches its credential until it expires) as it would for
   * its own requests. Throws what the client throws (an exec plugin that fails, a file that is gone).
   */
  async authentication(): Promise<Authentication> {
    const config = this.current
    const options: RequestOptions = {}
    await config.applyToHTTPSOptions(options)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value)
    if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`
    const tls: TlsMaterial = {
      ca: options.ca as TlsMaterial['ca'],
      cert: options.cert as TlsMaterial['cert'],
      key: options.key as TlsMaterial['key'],
      servername: options.servername,
      rejectUnauthorized: options.rejectUnauthorized,
    }
    const proxied = config.getCurrentCluster()?.proxyUrl !== undefined
    return {headers, tls, proxyAgent: proxied ? (options.agent as Agent | undefined) : undefined}
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

export const LOG_IN_AGAIN =
  "Log in to the cluster again (your provider's login command, e.g. `gcloud container clusters get-credentials` or `aws eks update-kubeconfig`, refreshes the kubeconfig), then retry."

/**
 * A request the API server answered 401 (the credentials expired or were revoked since they were loaded) is sent
 * once more after loading them again (transport.ts): resending is safe, the server authenticates before it does
 * anything, so a 401 means the request changed nothing. This is that reload (once however many requests were
 * refused since `seen`) and the resend's authentication; what fails in it is ClusterAuthError naming why. A
 * second 401 is returned as it is (api-errors.ts makes it ClusterAuthError).
 */
export async function authenticateAgain(credentials: ReloadableCredentials, seen: number): Promise<Authentication> {
  try {
    await credentials.reloadSince(seen)
  } catch (error) {
    const reason = error instanceof DemoError ? error.message : firstLine(error)
    throw new ClusterAuthError(`the API server refused the credentials (HTTP 401), and loading the kubeconfig again failed: ${reason}`, {
      cause: error,
      hint: LOG_IN_AGAIN,
    })
  }
  try {
    return await credentials.authentication()
  } catch (error) {
    throw new ClusterAuthError(`the API server refused the credentials (HTTP 401), and getting new ones failed: ${firstLine(error)}`, {
      cause: error,
      hint: LOG_IN_AGAIN,
    })
  }
}
