import {UsageError} from '../core/errors.js'
import type {ExpiryNotice, Notifier, Sleeper} from '../core/ports.js'

/** The environment variable read when `gc.alertWebhook` names none. */
export const DEFAULT_ALERT_ENV = 'DEMO_GC_ALERT_WEBHOOK'

/** The alert webhook of a gc run: where its URL comes from (for messages: never the URL itself) and the URL. */
export interface AlertWebhook {
  source: string
  url: URL
}

/**
 * The alert webhook URL from the variable `gc.alertWebhook` names (else DEMO_GC_ALERT_WEBHOOK); undefined when
 * unset. A malformed URL is a UsageError naming the variable, never the value: the URL is a secret.
 */
export function alertWebhookFrom(env: NodeJS.ProcessEnv, configured: string | undefined): AlertWebhook | undefined {
  const name = configured ?? DEFAULT_ALERT_ENV
  const value = env[name]?.trim()
  if (!value) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    throw new UsageError(`The alert webhook URL in $${name} is not an http(s) URL (its value is not shown: it is a secret).`, {
      hint: `Set ${name} to the incoming webhook URL (https://hooks.slack.com/services/...), or unset it.`,
    })
  }
  return {source: `$${name}`, url}
}

export interface AlertOptions {
  sleeper: Sleeper
  attempts?: number
  baseDelayMs?: number
  timeoutMs?: number
}

/** One POST: 'ok', 'retry' (network error, 429, 5xx) or 'stop' (another answer), with words that never contain the URL. */
async function postOnce(webhook: AlertWebhook, body: string, timeoutMs: number): Promise<{verdict: 'ok' | 'retry' | 'stop'; detail: string}> {
  try {
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
    if (response.ok) return {verdict: 'ok', detail: `sent to the webhook in ${webhook.source}`}
    const retry = response.status >= 500 || response.status === 429
    return {verdict: retry ? 'retry' : 'stop', detail: `the webhook in ${webhook.source} answered HTTP ${response.status}`}
  } catch (error) {
    // The error's own text may quote the URL; only its kind is kept.
    return {verdict: 'retry', detail: `the webhook in ${webhook.source} could not be reached (${error instanceof Error ? error.name : 'error'})`}
  }
}

/**
 * POSTs `payload` (Slack-compatible JSON: `{text}`) once, retrying network errors, 429 and 5xx with backoff.
 * Resolves with what happened, in words that never contain the URL; never throws.
 */
export async function postAlert(webhook: AlertWebhook, payload: {text: string}, options: AlertOptions): Promise<{ok: boolean; detail: string}> {
  const {attempts = 3, baseDelayMs = 500, timeoutMs = 10_000} = options
  const body = JSON.stringify(payload)
  let last = {verdict: 'retry', detail: 'not sent'}
  let attempt = 0
  while (attempt < attempts && last.verdict === 'retry') {
    if (attempt > 0) await options.sleeper.sleep(baseDelayMs * 2 ** (attempt - 1))
    attempt += 1
    last = await postOnce(webhook, body, timeoutMs)
  }
  const tries = `${attempt} attempt${attempt === 1 ? '' : 's'}`
  return last.verdict === 'ok' ? {ok: true, detail: `${last.detail} (${tries})`} : {ok: false, detail: `${last.detail}; gave up after ${tries}`}
}

/** gc's "expiring soon" notices through the alert webhook: one POST of `text(notice)` each (postAlert: retried, never throws, never names the URL). */
export function webhookNotifier(webhook: AlertWebhook, text: (notice: ExpiryNotice) => string, options: AlertOptions): Notifier {
  return {send: (notice) => postAlert(webhook, {text: text(notice)}, options)}
}
