import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO} from './env.js'
import {log, runOk} from './proc.js'

/**
 * The CLI under test, as a private copy: bin/, package.json, templates/ (and seeds/ when present) copied, dist/
 * compiled from src/ straight into the copy, node_modules linked. Other people rebuilding /work/main/dist
 * (`rm -rf dist && tsc`) during a run can then not break or skew it.
 */
export interface Package {
  root: string
  bin: string
  /** How dist/ was made, for the report. */
  origin: string
  hasManifest: boolean
}

const TSC = join(REPO, 'node_modules', '.bin', 'tsc')
const OCLIF = join(REPO, 'node_modules', '.bin', 'oclif')

function copyBase(root: string): void {
  for (const entry of ['bin', 'package.json', 'templates', 'seeds']) {
    if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(root, entry), {recursive: true})
  }
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir')
}

/** True when package.json's build, prepack, prepare or postbuild script runs `oclif manifest`. */
export function scriptsMakeManifest(): boolean {
  const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {scripts?: Record<string, string>}).scripts ?? {}
  return ['build', 'postbuild', 'prepack', 'prepare'].some((k) => /oclif manifest/.test(scripts[k] ?? ''))
}

export async function preparePackage(options: {useDist: boolean}): Promise<Package> {
  const root = mkdtempSync(join(tmpdir(), 'demo-bench-pkg-'))
  copyBase(root)
  let origin: string
  if (options.useDist) {
    if (!existsSync(join(REPO, 'dist', 'commands'))) throw new Error('dist/ is missing: run `npm run build` first, or drop --use-dist')
    cpSync(join(REPO, 'dist'), join(root, 'dist'), {recursive: true})
    origin = 'a copy of dist/ as built by `npm run build`'
  } else {
    log('compiling src/ into a private copy of the package (tsc -p tsconfig.build.json)')
    await runOk(TSC, ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(root, 'dist')], {cwd: REPO, timeoutMs: 300_000})
    origin = '`tsc -p tsconfig.build.json` of the working tree, compiled into a private copy'
  }
  // What the package would ship: an oclif.manifest.json only if a build/pack script makes one. A stray manifest
  // in the working tree (it is git-ignored, possibly stale) is never copied.
  const hasManifest = scriptsMakeManifest()
  if (hasManifest) {
    await runOk(OCLIF, ['manifest'], {cwd: root, timeoutMs: 120_000})
    origin += ', plus `oclif manifest` (as the package scripts do)'
  }
  return {root, bin: join(root, 'bin', 'run.js'), origin, hasManifest}
}

/** A second copy of the same package with `oclif manifest` run in it: the effect of shipping a manifest. */
export async function withManifest(base: Package): Promise<Package> {
  const root = mkdtempSync(join(tmpdir(), 'demo-bench-pkg-manifest-'))
  copyBase(root)
  cpSync(join(base.root, 'dist'), join(root, 'dist'), {recursive: true})
  await runOk(OCLIF, ['manifest'], {cwd: root, timeoutMs: 120_000})
  return {root, bin: join(root, 'bin', 'run.js'), origin: `${base.origin}, plus \`oclif manifest\``, hasManifest: true}
}

export function removePackage(p: Package): void {
  rmSync(p.root, {recursive: true, force: true})
}

/**
 * A prototype of a suggested change, not the shipped code: bin/run.js answering a lone `--version` from
 * package.json without importing oclif (same output format), on top of the manifest copy.
 */
export const FAST_VERSION_BIN = `#!/usr/bin/env node
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  const {readFileSync} = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(\`\${pkg.name}/\${pkg.version} \${process.platform}-\${process.arch} node-\${process.version}\\n\`)
} else {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
`

export function withFastVersion(base: Package): Package {
  const root = mkdtempSync(join(tmpdir(), 'demo-bench-pkg-fast-'))
  copyBase(root)
  cpSync(join(base.root, 'dist'), join(root, 'dist'), {recursive: true})
  if (existsSync(join(base.root, 'oclif.manifest.json'))) cpSync(join(base.root, 'oclif.manifest.json'), join(root, 'oclif.manifest.json'))
  writeFileSync(join(root, 'bin', 'run.js'), FAST_VERSION_BIN)
  return {root, bin: join(root, 'bin', 'run.js'), origin: `${base.origin}, bin/run.js with a --version fast path (prototype)`, hasManifest: base.hasManifest}
}
