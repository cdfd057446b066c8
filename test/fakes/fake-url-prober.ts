import type {UrlProber, UrlProbeResult} from '../../src/core/ports.js'
import {formatDuration} from '../../src/core/duration.js'

/** What a fake URL answers: a status (and a Location for 3xx), a TLS certificate, or no answer at all. */
export type FakeAnswer =
  {status: number; location?: string; tls?: UrlProbeResult['tls']; latencyMs?: number} | {error: string; latencyMs?: number} | {hang: true}

/**
 * The UrlProber port in memory: each URL answers what the test set (an unknown URL refuses the connection, as
 * a closed port does); a hanging URL answers "timed out" after the timeout. Like the real one it never
 * follows a redirect, resolves a relative Location against the URL, and never throws. `probed` lists every GET.
 */
export class FakeUrlProber implements UrlProber {
  readonly probed: string[] = []
  private readonly answers = new Map<string, FakeAnswer>()

  answer(url: string, answer: FakeAnswer): void {
    this.answers.set(url, answer)
  }

  async probe(url: string, timeoutMs: number): Promise<UrlProbeResult> {
    this.probed.push(url)
    const answer = this.answers.get(url) ?? {error: `connect ECONNREFUSED ${new URL(url).host}`}
    if ('hang' in answer)
      return {status: null, latencyMs: timeoutMs, location: null, tls: null, error: `timed out after ${formatDuration(timeoutMs)}`}
    const tls = url.startsWith('https:') && 'status' in answer ? (answer.tls ?? {valid: true, error: null, validTo: null}) : null
    if ('error' in answer) return {status: null, latencyMs: answer.latencyMs ?? 1, location: null, tls: null, error: answer.error}
    const redirect = answer.status >= 300 && answer.status < 400 && answer.location ? new URL(answer.location, url).toString() : null
    return {status: answer.status, latencyMs: answer.latencyMs ?? 1, location: redirect, tls, error: null}
  }
}
