import {mayHoldObjects, type Demo} from './demo.js'
import {formatUtc} from './duration.js'
import {NotFoundError, UsageError} from './errors.js'
import {assertValidReference, MAX_REFERENCE_CANDIDATES, MIN_ID_PREFIX} from './naming.js'
import type {DemoStore} from './ports.js'

/** The command to suggest with an exact id when a reference is ambiguous (`demo get <id>` ...). */
export type RetryCommand = (id: string) => string

function isNameOrPrefixMatch(ref: string, demo: Demo): boolean {
  return demo.name === ref || (ref.length >= MIN_ID_PREFIX && demo.id.startsWith(ref))
}

function candidateLines(candidates: Demo[]): string[] {
  const rows = candidates.map((d) => [d.id, d.name ?? '<none>', d.status, d.createdBy, `created ${formatUtc(d.createdAt)}`])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`)
}

function ambiguityError(ref: string, candidates: Demo[], retry: RetryCommand | undefined): UsageError {
  const count =
    candidates.length >= MAX_REFERENCE_CANDIDATES
      ? `${MAX_REFERENCE_CANDIDATES} or more demos (the first ${MAX_REFERENCE_CANDIDATES})`
      : `${candidates.length} demos`
  const example = candidates[0]!.id
  return new UsageError([`"${ref}" could mean any of ${count}:`, ...candidateLines(candidates)].join('\n'), {
    hint: retry ? `Name one by its exact id: \`${retry(example)}\`.` : `Name one by its exact id, e.g. "${example}".`,
  })
}

/**
 * Which demo `ref` means among the store's candidates: an exact id wins, else an exact namespace, else the
 * one demo whose name is `ref` or whose id starts with it (3 or more characters). When several match and
 * exactly one of them may still hold objects (live, or failed with leftovers; what `demo list` shows), that
 * one. Undefined when none match; throws UsageError listing the candidates when it cannot tell.
 */
export function chooseDemo(ref: string, candidates: Demo[], retry?: RetryCommand): Demo | undefined {
  const exact = candidates.find((d) => d.id === ref) ?? candidates.find((d) => d.namespace === ref)
  if (exact) return exact
  const matches = candidates.filter((d) => isNameOrPrefixMatch(ref, d))
  if (matches.length <= 1) return matches[0]
  const holding = matches.filter((d) => mayHoldObjects(d))
  if (holding.length === 1) return holding[0]
  throw ambiguityError(ref, matches, retry)
}

/**
 * The demo `ref` names: its id, a unique id prefix, its name or its namespace (rules in chooseDemo).
 * Throws UsageError for a reference that cannot be any of these or that matches several demos, and
 * NotFoundError when none matches.
 */
export async function findDemo(store: DemoStore, ref: string, retry?: RetryCommand): Promise<Demo> {
  assertValidReference(ref)
  const demo = chooseDemo(ref, await store.findByReference(ref), retry)
  if (demo) return demo
  const short = ref.length < MIN_ID_PREFIX ? `An id prefix needs at least ${MIN_ID_PREFIX} characters. ` : ''
  throw new NotFoundError(`No demo matches "${ref}" (by id, id prefix, name or namespace) in the ${store.describe()}.`, {
    hint: `${short}Run \`demo list --status all\` to see every demo.`,
  })
}
