import type {Context} from './lib/context.js'
import type {Section} from './lib/report.js'

export async function destroy(_ctx: Context): Promise<Section> {
  throw new Error('not yet')
}
