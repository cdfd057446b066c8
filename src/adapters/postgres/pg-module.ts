import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

export type Pg = (typeof import('pg'))['default']

let loading: Promise<Pg> | undefined

/**
 * pg, for every adapter that talks to a PostgreSQL server (the state store, schema-per-demo databases, the
 * Supabase schema lock). The built CLI has it as one bundle, dist/vendor/pg.cjs (scripts/bundle-pg.mjs): ~10 ms
 * to load instead of ~22 ms for the packages' ~40 modules, in every command. Run from the sources (tests under
 * tsx) there is no bundle, and the package itself is used. One load per process, whoever asks first.
 */
export function loadPg(): Promise<Pg> {
  loading ??= load()
  return loading
}

async function load(): Promise<Pg> {
  const bundle = new URL('../../vendor/pg.cjs', import.meta.url)
  const module = (existsSync(fileURLToPath(bundle)) ? await import(bundle.href) : await import('pg')) as {default: Pg}
  return module.default
}
