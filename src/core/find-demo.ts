import type {Demo} from './demo.js'
import {NotFoundError} from './errors.js'
import {assertValidId} from './naming.js'
import type {DemoStore} from './ports.js'

/** The demo with this id. Throws UsageError for a malformed id and NotFoundError for an unknown one. */
export async function findDemo(store: DemoStore, id: string): Promise<Demo> {
  assertValidId(id)
  const demo = await store.get(id)
  if (!demo) throw new NotFoundError(`No demo with id "${id}" in the ${store.describe()}.`, {hint: 'Run `demo list --status all` to see every demo.'})
  return demo
}
