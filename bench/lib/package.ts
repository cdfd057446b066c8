import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO} from './env.js'
import {log, runOk} from './proc.js'

/**
 * The CLI under test, as a private copy: the sources and build inputs are copied, node_modules linked, and the
 * project's own `npm run build` runs inside the copy, so the copy is exactly what the build makes (dist/, the oclif
 * manifest, vendored bundles). Other people rebuilding /work/main/dist (`rm -rf dist && ...`) during a run can then
 * neither break nor skew it.
 */
export interface Package {
  root: string
  bin: string
  /** How dist/ was made, for the report. */
  origin: string
  hasManifest: boolean
  /** The commit the sources were copied at, "+ uncommitted changes" when the working tree differed. */
  commit?: string
}

const OCLIF = join(REPO, 'node_modules', '.bin', 'oclif')
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts', 'bin', 'templates', 'seeds']
const RUNTIME_FILES = ['package.json', 'bin', 'templates', 'seeds']

function copyFromRepo(root: string, entries: string[]): void {
  for (const entry of entries) {
    if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(root, entry), {recursive: true})
  }
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir')
}

async function sourceCommit(): Promise<string> {
  const head = (await runOk('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])).stdout.trim()
  const dirty = (await runOk('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'bin', 'scripts', 'templates', 'package.json'])).stdout.trim()
  return dirty ? `${head} + uncommitted changes in src/bin/scripts/templates` : head
}

export async function preparePackage(options: {useDist: boolean}): Promise<Package> {
  const commit = await sourceCommit()
  const root = mkdtempSync(join(tmpdir(), 'demo-bench-pkg-'))
  let origin: string
  if (options.useDist) {
    if (!existsSync(join(REPO, 'dist', 'commands'))) throw new Error('dist/ is missing: run `npm run build` first, or drop --use-dist')
    copyFromRepo(root, [...RUNTIME_FILES, 'dist', 'oclif.manifest.json'])
    origin = "a copy of the working tree's dist/ (and oclif.manifest.json, if any) as last built"
  } else {
    log('building a private copy of the package (npm run build in a copy of the sources)')
    copyFromRepo(root, BUILD_INPUTS)
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {scripts?: {build?: string}}).scripts?.build ?? ''
    await runOk('npm', ['run', '-s', 'build'], {cwd: root, timeoutMs: 600_000})
    origin = `\`npm run build\` (\`${script}\`) of the working tree, run in a private copy`
  }
  const hasManifest = existsSync(join(root, 'oclif.manifest.json'))
  return {root, bin: join(root, 'bin', 'run.js'), origin, hasManifest, commit}
}

/** A second copy of the same package with `oclif manifest` run in it: the effect of shipping a manifest. */
export async function withManifest(base: Package): Promise<Package> {
  const root = mkdtempSync(join(tmpdir(), 'demo-bench-pkg-manifest-'))
  copyFromRepo(root, RUNTIME_FILES)
  cpSync(join(base.root, 'dist'), join(root, 'dist'), {recursive: true})
  await runOk(OCLIF, ['manifest'], {cwd: root, timeoutMs: 120_000})
  return {root, bin: join(root, 'bin', 'run.js'), origin: `${base.origin}, plus \`oclif manifest\``, hasManifest: true}
}

export function removePackage(p: Package): void {
  rmSync(p.root, {recursive: true, force: true})
}

/**
 * A prototype of a suggested change, not shipped code: the same build with dist/deps.js patched so that
 * `Deps.store()` takes the database URL straight from the environment and deps.js no longer imports config.js
 * (and through it zod). Good enough for `demo list`, which needs nothing else from the config; undefined when
 * the compiled deps.js no longer has the expected shape.
 */
export function withoutConfigOnListPath(base: Package): Package | undefined {
  const deps = readFileSync(join(base.root, 'dist', 'deps.js'), 'utf8')
  const importLine = "import { loadConfig } from './config.js';\n"
  const urlLine = 'const { databaseUrl } = this.config();'
  if (!deps.includes(importLine) || !deps.includes(urlLine)) return undefined
  const root = mkdtempSync(join(tmpdir(), 'demo-bench-pkg-nozod-'))
  copyFromRepo(root, RUNTIME_FILES)
  cpSync(join(base.root, 'dist'), join(root, 'dist'), {recursive: true})
  if (existsSync(join(base.root, 'oclif.manifest.json'))) cpSync(join(base.root, 'oclif.manifest.json'), join(root, 'oclif.manifest.json'))
  const patched = deps
    .replace(importLine, '')
    .replace(urlLine, 'const databaseUrl = this.options.env.DEMO_DATABASE_URL || this.options.env.DATABASE_URL || null;')
  writeFileSync(join(root, 'dist', 'deps.js'), patched)
  return {root, bin: join(root, 'bin', 'run.js'), origin: `${base.origin}, prototype: no config/zod on the list path`, hasManifest: base.hasManifest}
}
