import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {UsageError} from '../core/errors.js'
import type {DemoStore, Sleeper} from '../core/ports.js'
import {createdByFlag} from '../flags.js'
import {listDemos, MAX_PAGE_SIZE} from '../core/list-demos.js'
import {localTime, table, toDemoView, type DemoView} from '../render.js'
import {colorStatus, makeChalk} from '../colors.js'
import {expiryWarnings} from '../core/expiry-warnings.js'

export interface ListResult {
  demos: DemoView[]
  total: number
  page: number
  limit: number
}

const WATCH_INTERVAL_MS = 2000
const CLEAR_SCREEN = '\u001B[H\u001B[2J'

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List demos from the shared state, newest first.'
  static override aliases = ['ls']
  static override description =
    'Shows live demos (creating, ready, degraded, destroying, and failed demos that still hold objects: created with --keep-on-failure or not fully rolled back) unless --status says otherwise. Read-only.'
  static override examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --mine --status ready',
    '<%= config.bin %> list --status all --type startup --limit 50 --page 2 --json',
  ]

  static override flags = {
    status: Flags.string({
      char: 's',
      description: 'Status to show: live, all, creating, ready, degraded, destroying, destroyed, failed. Repeatable.',
      multiple: true,
      default: ['live'],
    }),
    'created-by': createdByFlag,
    mine: Flags.boolean({description: 'Only demos created by you.', exclusive: ['created-by']}),
    type: Flags.string({char: 't', description: 'Only demos of this type.'}),
    limit: Flags.integer({description: `Rows per page (1-${MAX_PAGE_SIZE}).`, default: 25}),
    page: Flags.integer({description: 'Page number, from 1.', default: 1}),
    watch: Flags.boolean({
      char: 'w',
      description: `Show the table again every ${WATCH_INTERVAL_MS / 1000} s until Ctrl-C (not with --json or -o). [default: off]`,
      default: false,
    }),
  }

  async run(): Promise<ListResult> {
    const {deps} = this
    const store = await deps.store()
    if (this.flags.watch) return this.watch(store)
    const shown = await this.show(store)
    this.note(`State: ${store.describe()}`)
    return shown
  }

  /**
   * Demos already warned about in this `--watch` when its output is not a terminal: the tables follow one another
   * there, so a demo's expiry warning is said once, not on every refresh. On a terminal each refresh replaces
   * the screen, and the warning is part of it.
   */
  private readonly warned = new Set<string>()

  private async show(store: DemoStore, once = false): Promise<ListResult> {
    const {flags, deps} = this
    const createdBy = flags.mine ? deps.identity().name : flags['created-by']
    const result = await listDemos(store, {status: flags.status, createdBy, demoType: flags.type, limit: flags.limit, page: flags.page})
    const now = deps.clock.now()
    const demos = result.items.map((d) => toDemoView(d, now))
    const paint = (status: string) => colorStatus(makeChalk(deps.env, deps.io.stdout), status)
    if (demos.length === 0) this.log('No demos match.')
    else this.log(listTable(demos, {wide: this.output === 'wide', width: deps.io.stdout.isTTY ? deps.io.stdout.columns : undefined, paint}))
    const user = deps.identity().name
    for (const demo of result.items) {
      if (once && this.warned.has(demo.id)) continue
      for (const warning of expiryWarnings([demo], user, now)) {
        this.warned.add(demo.id)
        this.warn(warning)
      }
    }
    const footer = pageFooter(result)
    if (footer) this.note(footer)
    return {demos, total: result.total, page: result.page, limit: result.limit}
  }

  /** The table again and again (the screen cleared on a terminal, a time line between tables otherwise) until Ctrl-C, which ends it with exit 0. */
  private async watch(store: DemoStore): Promise<ListResult> {
    const {deps} = this
    if (this.jsonEnabled())
      throw new UsageError('--watch shows tables for people; it cannot be combined with --json or -o json/yaml/name.', {
        hint: 'Leave out --watch, and poll `demo list --json` from your script.',
      })
    this.note(`State: ${store.describe()}`)
    const cancel = deps.cancellation(() => {})
    try {
      let last: ListResult
      do {
        if (deps.io.stdout.isTTY) deps.io.stdout.write(CLEAR_SCREEN)
        else deps.io.stdout.write(`--- ${localTime(deps.clock.now())}\n`)
        last = await this.show(store, !deps.io.stdout.isTTY)
      } while (await pause(deps.sleeper, cancel.signal))
      return last
    } finally {
      cancel.dispose()
    }
  }
}

/** Waits one watch interval; false once Ctrl-C (or SIGTERM) ended the watch. */
async function pause(sleeper: Sleeper, signal: AbortSignal): Promise<boolean> {
  try {
    await sleeper.sleep(WATCH_INTERVAL_MS, signal)
    return !signal.aborted
  } catch (error) {
    if (signal.aborted) return false
    throw error
  }
}

const NONE = '<none>'

/** A demo that is gone or never came up has no expiry to count down and no URL to open. */
function listRow(d: DemoView, wide: boolean, paint: (status: string) => string): string[] {
  const over = d.status === 'destroyed' || d.status === 'failed'
  const row = [d.id, d.name ?? NONE, d.type, paint(d.status), d.createdBy, over ? '-' : d.expiresIn]
  const more = wide ? [d.namespace, d.kubeContext ?? NONE, localTime(new Date(d.createdAt))] : []
  return [...row, ...more, over ? '-' : d.portalUrl]
}

/** The table of `list`; -o wide adds the namespace, the kubeconfig context and when it was created. The URL stays last (cut to the terminal's width). */
function listTable(demos: DemoView[], options: {wide: boolean; width: number | undefined; paint: (status: string) => string}): string {
  const headers = ['ID', 'NAME', 'TYPE', 'STATUS', 'OWNER', 'EXPIRES IN', ...(options.wide ? ['NAMESPACE', 'CONTEXT', 'CREATED'] : []), 'PORTAL']
  return table(
    headers,
    demos.map((d) => listRow(d, options.wide, options.paint)),
    {width: options.width},
  )
}

/** Where this page is among all of them, on stderr; "next" only when there is a next page. */
export function pageFooter(result: {total: number; page: number; limit: number}): string | undefined {
  const pages = Math.max(1, Math.ceil(result.total / result.limit))
  if (result.page > pages) return `Page ${result.page} is past the last page (${pages}; ${result.total} demos).`
  if (pages === 1) return undefined
  const next = result.page < pages ? `; next: --page ${result.page + 1}` : ''
  return `Page ${result.page} of ${pages} (${result.total} demos)${next}`
}
