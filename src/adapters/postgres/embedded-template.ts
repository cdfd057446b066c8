import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * A pre-initialised embedded store: the data directory right after PGlite's initdb and our migrations, as a
 * tar built by `npm run build` (scripts/build-embedded-template.mjs). Running initdb in WebAssembly costs
 * the first command on a new machine 4–7 s and ~600 MiB; unpacking this costs writing its ~40 MB. The tar is not
 * compressed: seeding a new store from the gzipped one cost 700 ms of CPU (user 205, sys 500; medians of 6 at load
 * 20), from the plain tar 565 ms (user 100, sys 465); the npm tarball that ships the package is gzipped anyway,
 * so only the installed size grows (by ~36 MB). Leaving the template's zero pages as holes (a quarter of it)
 * was tried and saved nothing measurable: the system time is creating and filling the files. A PGlite data directory
 * is the same on every machine (WebAssembly is 32-bit little-endian everywhere), and the template is rebuilt
 * with the PGlite the package ships. Run from the sources (tests under tsx) there is no template and PGlite
 * runs initdb as before.
 */
export const EMBEDDED_TEMPLATE = fileURLToPath(new URL('../../embedded-store-template.tar', import.meta.url))

const BLOCK = 512
/** Written by a running server; never part of a template. */
const SKIPPED = new Set(['postmaster.pid', 'postmaster.opts'])

/** Whether `dataDir` already holds a data directory (PGlite writes PG_VERSION first). */
export function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'))
}

/**
 * Fills a new (missing or empty) `dataDir` from the template; false when there is no template or the directory
 * holds anything already. The files go to a
 * sibling directory first and are renamed into place, so a process killed halfway leaves no half-made store.
 * The caller holds the store's lock.
 */
export function seedFromTemplate(dataDir: string, template: string = EMBEDDED_TEMPLATE): boolean {
  if (!existsSync(template)) return false
  // An empty directory (made by an older run, or by the user) is filled; one that holds anything is left to PGlite.
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false
  const staging = `${dataDir}.seeding-${process.pid}`
  rmSync(staging, {recursive: true, force: true})
  try {
    unpackTar(readFileSync(template), staging)
    rmSync(dataDir, {recursive: true, force: true})
    mkdirSync(dirname(dataDir), {recursive: true})
    renameSync(staging, dataDir)
  } finally {
    rmSync(staging, {recursive: true, force: true})
  }
  return true
}

/** Packs a closed PGlite data directory into a template (used by the build). */
export function packTemplate(dataDir: string, template: string): void {
  const blocks: Buffer[] = []
  for (const entry of entriesUnder(dataDir)) {
    const name = relative(dataDir, entry.path).split(sep).join('/')
    if (entry.isDirectory) {
      blocks.push(tarHeader(`${name}/`, 0, '5'))
      continue
    }
    const data = readFileSync(entry.path)
    blocks.push(tarHeader(name, data.length, '0'), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK))
  }
  blocks.push(Buffer.alloc(2 * BLOCK))
  writeFileSync(template, Buffer.concat(blocks))
}

/** Every directory (Postgres needs its empty ones: pg_tblspc, pg_notify ...) and file, parents first. */
function entriesUnder(dir: string): Array<{path: string; isDirectory: boolean}> {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return [{path, isDirectory: true}, ...entriesUnder(path)]
      return SKIPPED.has(name) ? [] : [{path, isDirectory: false}]
    })
}

function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`path too long for the template: ${name}`)
  const header = Buffer.alloc(BLOCK)
  header.write(name, 0)
  header.write(type === '5' ? '0000700\0' : '0000600\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
  header.write('00000000000\0', 136)
  header.write('        ', 148)
  header.write(type, 156)
  header.write('ustar\0' + '00', 257)
  const sum = header.reduce((total, byte) => total + byte, 0)
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  return header
}

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length).toString('utf8')
  const end = raw.indexOf('\0')
  return end === -1 ? raw : raw.slice(0, end)
}

/** The directories and regular files of a ustar archive; refuses paths that leave `into`. */
function unpackTar(archive: Buffer, into: string): void {
  for (let at = 0; at + BLOCK <= archive.length;) {
    const header = archive.subarray(at, at + BLOCK)
    const name = field(header, 0, 100)
    if (name === '') break
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8)
    const type = field(header, 156, 1)
    const path = join(into, name)
    if (relative(into, path).startsWith('..')) throw new Error(`template entry outside the data directory: ${name}`)
    if (type === '5') mkdirSync(path, {recursive: true, mode: 0o700})
    else if (type === '0' || type === '') {
      mkdirSync(dirname(path), {recursive: true})
      writeFileSync(path, archive.subarray(at + BLOCK, at + BLOCK + size), {mode: 0o600})
    }
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK
  }
}
