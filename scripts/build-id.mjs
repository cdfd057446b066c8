// Writes dist/build-id: a hash of every file of the build (paths and contents). The parse cache (src/parse-cache.ts)
// keys what it remembers on it, so a rebuilt or upgraded CLI never reuses what another build validated.
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'

// Left out: the embedded store's pre-initialised data directory. It is a PostgreSQL initdb, which differs in
// every build of the same sources (timestamps, system identifier), and nothing the cache holds depends on it;
// hashing it made the id differ between two builds of one commit.
const NOT_HASHED = new Set(['build-id', 'embedded-store-template.tar'])

const dist = new URL('../dist/', import.meta.url).pathname
const hash = createHash('sha256')
const files = readdirSync(dist, {recursive: true, withFileTypes: true})
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath, entry.name))
  .filter((path) => !NOT_HASHED.has(relative(dist, path)))
  .sort()
for (const path of files)
  hash
    .update(`${relative(dist, path)}\0`)
    .update(readFileSync(path))
    .update('\0')
writeFileSync(join(dist, 'build-id'), `${hash.digest('hex')}\n`)
