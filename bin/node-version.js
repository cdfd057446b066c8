// The oldest Node.js demo runs on (package.json "engines"). Checked here, before anything else loads: on an
// older Node the first failure would be a TypeError deep inside a dependency, and oclif's own engine check
// loads the whole of semver (~40 ms) on every start, so it is switched off in run.js.
export const MINIMUM_NODE = '22.12.0'

/** The refusal for a Node.js version below MINIMUM_NODE, or undefined when `version` (e.g. "20.20.2") is fine. */
export function unsupportedNode(version) {
  const [major, minor] = version.split('.').map(Number)
  const [needMajor, needMinor] = MINIMUM_NODE.split('.').map(Number)
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined
  return (
    `demo needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${version}.\n` +
    `  Hint: install a current Node.js (https://nodejs.org/). In a clone of the repository, \`npm run demo -- <command>\` uses the Node.js its \`npm install\` brought.\n`
  )
}
