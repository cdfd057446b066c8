import {formatDuration, formatUtc} from './core/duration.js'
import type {ExpiryNotice} from './core/ports.js'
import type {GcReport} from './core/run-gc.js'
import {table} from './render.js'

interface Row {
  outcome: string
  action: string
  demo: string
  namespace: string
  detail: string
}

function rowsOf(report: GcReport): Row[] {
  const plannedOnly = report.brake !== null || report.dryRun
  const rows: Row[] = []
  const push = (outcome: string, e: {action?: string; demoId: string; namespace: string | null}, detail: string) =>
    rows.push({outcome, action: e.action ?? '-', demo: e.demoId, namespace: e.namespace ?? '-', detail})
  if (plannedOnly) for (const e of report.planned) push(report.brake ? 'held' : 'planned', e, e.reason)
  for (const e of report.done) push('done', e, `${e.reason} → ${e.result}`)
  for (const e of report.failed) push('FAILED', e, `${e.reason} → ${e.error.code}: ${e.error.message}`)
  for (const e of report.skipped) push('skipped', e, e.reason)
  for (const e of report.overdue) push('overdue', {action: 'report', ...e}, `auto_cleanup off; expired ${e.overdue} ago (owner ${e.createdBy})`)
  rows.push(...noticeRows(report))
  return rows
}

function noticeRows(report: GcReport): Row[] {
  return report.notices.map((n) => ({
    outcome: n.outcome === 'would-send' ? 'planned' : n.outcome,
    action: 'notify',
    demo: n.demoId,
    namespace: n.namespace,
    detail: `expires at ${formatUtc(new Date(n.expiresAt))} (in ${n.expiresIn}; owner ${n.owner}) → ${n.detail}`,
  }))
}

/** "3 done, 1 failed, 2 skipped, 1 overdue in 4.2s" */
export function gcSummary(report: GcReport): string {
  const counts = report.dryRun
    ? [`${report.planned.length} planned (dry run, nothing changed)`]
    : [`${report.done.length} done`, `${report.failed.length} failed`]
  counts.push(`${report.skipped.length} skipped`, `${report.overdue.length} overdue`, `${report.orphans.length} orphans`)
  if (report.notices.length > 0) {
    const sent = report.notices.filter((n) => n.outcome === 'sent' || n.outcome === 'not-recorded').length
    counts.push(report.dryRun ? `${report.notices.length} expiry notice(s) to send` : `${sent} of ${report.notices.length} expiry notice(s) sent`)
  }
  return `${counts.join(', ')} in ${(report.durationMs / 1000).toFixed(1)}s`
}

/** What gc says on stderr: a table on a terminal, a line per action otherwise (CronJob logs), then a summary. */
export function gcLines(report: GcReport, options: {tty: boolean; columns?: number | undefined}): string {
  const rows = rowsOf(report)
  const where = report.cluster ? ` on cluster ${report.cluster.id} (context ${report.cluster.context})` : ''
  const brake = report.brake ? `gc: BRAKE ENGAGED, nothing deleted: ${report.brake.reason}\n` : ''
  let body = ''
  if (rows.length > 0 && options.tty) {
    body = `${table(
      ['OUTCOME', 'ACTION', 'DEMO', 'NAMESPACE', 'DETAIL'],
      rows.map((r) => [r.outcome, r.action, r.demo, r.namespace, r.detail]),
      {width: options.columns},
    )}\n`
  } else {
    body = rows.map((r) => `gc: ${r.outcome} ${r.action} ${r.demo} ${r.namespace}: ${r.detail}\n`).join('')
  }
  return `${brake}${body}gc${where}: ${gcSummary(report)}\n`
}

/** The alert's text (Slack-compatible `text`): what went wrong, on which cluster; no secret. */
export function alertText(report: GcReport): string {
  const where = report.cluster ? `cluster ${report.cluster.id} (context ${report.cluster.context})` : 'an unknown cluster'
  if (report.brake) return `demo gc on ${where}: safety brake engaged, nothing deleted: ${report.brake.reason}`
  const failures = report.failed.slice(0, 10).map((f) => `• ${f.action} ${f.demoId}: ${f.error.code}: ${f.error.message}`)
  return [`demo gc on ${where}: ${report.failed.length} action(s) failed (${gcSummary(report)})`, ...failures].join('\n')
}

/**
 * An "expiring soon" notice (Slack-compatible `text`): the demo, its owner, its expiry and the exact command that
 * keeps it; no secret.
 */
export function noticeText(notice: ExpiryNotice): string {
  const demo = `${notice.demoId}${notice.name ? ` ("${notice.name}")` : ''}`
  return `Demo ${demo} of ${notice.owner} expires at ${formatUtc(notice.expiresAt)}, in ${formatDuration(notice.expiresInMs)}; demo gc destroys it then (namespace ${notice.namespace}). To keep it: \`${notice.extendCommand}\``
}

/** Warnings for the notices that were not sent or not recorded (they never fail the run). */
export function noticeWarnings(report: GcReport): string[] {
  return report.notices
    .filter((n) => n.outcome === 'not-sent' || n.outcome === 'not-recorded')
    .map(
      (n) =>
        `the expiry notice for demo ${n.demoId} (owner ${n.owner}) was ${n.outcome === 'not-sent' ? 'not sent' : 'sent but not recorded'}: ${n.detail}.`,
    )
}
