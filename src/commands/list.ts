import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {listDemos, MAX_PAGE_SIZE} from '../core/list-demos.js'
import {table, toDemoView, type DemoView} from '../render.js'

export interface ListResult {
  demos: DemoView[]
  total: number
  page: number
  limit: number
}

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List demos from the shared state, newest first.'
  static override description = 'Shows live demos (creating, ready, degraded, destroying) unless --status says otherwise. Read-only.'
  static override examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --mine --status ready',
    '<%= config.bin %> list --status all --type startup --limit 50 --page 2 --json',
  ]

  static override flags = {
    status: Flags.string({char: 's', description: 'Status to show: live, all, creating, ready, degraded, destroying, destroyed, failed. Repeatable.', multiple: true, default: ['live']}),
    owner: Flags.string({description: 'Only demos created by this identity.'}),
    mine: Flags.boolean({description: 'Only demos created by you.', exclusive: ['owner']}),
    type: Flags.string({char: 't', description: 'Only demos of this type.'}),
    limit: Flags.integer({description: `Rows per page (1-${MAX_PAGE_SIZE}).`, default: 25}),
    page: Flags.integer({description: 'Page number, from 1.', default: 1}),
  }

  async run(): Promise<ListResult> {
    const {flags, deps} = this
    const store = await deps.store()
    const createdBy = flags.mine ? deps.identity().name : flags.owner
    const result = await listDemos(store, {status: flags.status, createdBy, demoType: flags.type, limit: flags.limit, page: flags.page})
    const now = deps.clock.now()
    const demos = result.items.map((d) => toDemoView(d, now))
    this.note(`State: ${store.describe()}`)
    if (demos.length === 0) this.log('No demos match.')
    else {
      this.log(table(['ID', 'NAME', 'TYPE', 'STATUS', 'OWNER', 'EXPIRES IN', 'PORTAL'], demos.map((d) => [d.id, d.name ?? '', d.type, d.status, d.createdBy, d.expiresIn, d.portalUrl])))
      if (result.total > demos.length) this.log(`Page ${result.page} of ${Math.ceil(result.total / result.limit)} (${result.total} demos); next: --page ${result.page + 1}`)
    }
    return {demos, total: result.total, page: result.page, limit: result.limit}
  }
}
