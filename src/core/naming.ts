import {UsageError} from './errors.js'

/** ids are short, lowercase and DNS-safe: they become namespace names, schema names and URL parts. */
export const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
export const ID_LENGTH = 8
const ID_PATTERN = /^[a-z][a-z0-9]{5,31}$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/

/** Builds an id from random bytes; the first character is a letter so the id is also a valid SQL identifier start. */
export function makeId(randomBytes: Uint8Array): string {
  const letters = ID_ALPHABET.slice(0, 26)
  const chars = [...randomBytes.slice(0, ID_LENGTH)].map((b, i) => (i === 0 ? letters[b % letters.length] : ID_ALPHABET[b % ID_ALPHABET.length]))
  return chars.join('')
}

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id)
}

export function assertValidId(id: string): void {
  if (!isValidId(id)) {
    throw new UsageError(`"${id}" is not a demo id.`, {hint: 'Ids look like "k3x9a2bq"; run `demo list` to see them.'})
  }
}

/** An id prefix names a demo only from this many characters on (fewer would match too much by chance). */
export const MIN_ID_PREFIX = 3

/** The most demos a reference is resolved among (DemoStore.findByReference); enough to list the candidates. */
export const MAX_REFERENCE_CANDIDATES = 20

/**
 * A reference to a demo: its id, a unique id prefix, its name or its namespace. Each of these is a lowercase
 * DNS label of at most 63 characters, so anything else (empty, spaces, uppercase ...) names no demo.
 */
export function assertValidReference(ref: string): void {
  if (!isDnsLabel(ref)) {
    throw new UsageError(`"${ref}" is not a demo id, id prefix, name or namespace.`, {
      hint: 'Name a demo by its id ("k3x9a2bq"), a unique id prefix of 3 or more characters ("k3x"), its --name or its namespace ("demo-k3x9a2bq"); run `demo list` to see them.',
    })
  }
}

/** The namespace of a demo: `<prefix><id>`, a DNS-1123 label of at most 63 characters. */
export function namespaceFor(id: string, prefix = 'demo-'): string {
  const name = `${prefix}${id}`
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new UsageError(`Namespace "${name}" is not a valid DNS-1123 label.`, {hint: 'Use a namespace prefix of lowercase letters, digits and "-".'})
  }
  return name
}

/**
 * The per-demo SQL schema: `demo_<id>` with every non [a-z0-9_] character replaced. The plan's
 * `id.replace("-", "_")` replaced only the first hyphen; ids here never contain one, and the mapping is total.
 */
export function schemaFor(id: string): string {
  return `demo_${id.replaceAll(/[^a-z0-9_]/g, '_')}`.slice(0, 63)
}

/** An optional human name for a demo: lowercase DNS label, up to 40 characters. */
export function assertValidName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`Demo name "${name}" is not allowed.`, {
      hint: 'Use 1-40 lowercase letters, digits and "-", starting and ending with a letter or digit.',
    })
  }
}

export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value)
}
