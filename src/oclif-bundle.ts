import {existsSync} from 'node:fs'
import type {registerHooks, ResolveHookSync} from 'node:module'
import {fileURLToPath} from 'node:url'

/** The one specifier sent to the bundle: how our commands, hooks and oclif's plugins all import oclif at run time. */
export const OCLIF_CORE = '@oclif/core'

/**
 * The resolve hook: `@oclif/core`, from any importer, is `bundleUrl`; every other specifier resolves as without the
 * hook. A subpath (`@oclif/core/ux`) would still load the package: nothing imports one at run time (the plugins'
 * `@oclif/core/interfaces` are in their type declarations only).
 */
export function resolveOclifToBundle(bundleUrl: string): ResolveHookSync {
  return (specifier, context, nextResolve) =>
    specifier === OCLIF_CORE ? {url: bundleUrl, format: 'commonjs', shortCircuit: true} : nextResolve(specifier, context)
}

/**
 * Makes this process load oclif from `bundle` (dist/vendor/oclif-core.cjs, scripts/bundle-oclif-core.mjs) instead of
 * the package's ~170 modules: ~35–70 ms less CPU in every command (docs/decisions.md, "oclif as one file"). Called by
 * bin/run.js before anything imports oclif, so the process has one oclif, whoever imports it. False, and nothing
 * changes, where Node has no synchronous module hooks (before 22.15) or the build made no bundle.
 */
export function useOclifBundle(register: typeof registerHooks | undefined, bundle: URL): boolean {
  if (typeof register !== 'function' || !existsSync(fileURLToPath(bundle))) return false
  register({resolve: resolveOclifToBundle(bundle.href)})
  return true
}
