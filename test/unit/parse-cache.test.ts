import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {loadConfig, parseProjectConfig} from '../../src/config.js'
import {loadConfigRemembered, readBuildId, isPlainJson, MAX_ENTRIES, remembered, type ParseCache} from '../../src/parse-cache.js'
import {loadTemplates} from '../../src/adapters/kubernetes/templates-loader.js'
import {parseDocuments, renderStack} from '../../src/core/render-stack.js'
import {projectConfigSchema} from '../../src/core/project-config.js'
import {ConfigError} from '../../src/core/errors.js'
import {tempDir as makeTempDir} from '../support/databases.js'

function tempDir(): string {
  return makeTempDir('demo-config-cache-')
}

/** A project directory holding `text` as its demo.config.yaml, and the sources that find it. */
function project(text: string) {
  const dir = tempDir()
  writeFileSync(join(dir, 'demo.config.yaml'), text)
  writeFileSync(join(dir, 'seed.sql'), 'select 1;\n')
  return {dir, sources: {cwd: dir, env: {}, packageRoot: '/pkg'}}
}

function entries(cache: ParseCache): string[] {
  try {
    return readdirSync(join(cache.dir, 'config'))
  } catch {
    return []
  }
}

// Every kind of value the schema produces: defaults, a merged and an added service, records, optionals, enums.
const RICH = `
namespacePrefix: acme-
services:
  portal: {replicas: 2, env: {FEATURE_X: "on"}}
  candidate: {enabled: false}
  worker: {image: registry.example/worker:1, port: 9000}
types:
  trial: {description: Trial, seed: startup}
  mine: {seedFile: seed.sql}
  scripted: {seedCommand: {run: [./seed.sh, --fast]}}
ingress: {className: traefik, tlsSecretName: demo-tls}
podSecurity: {level: baseline, reason: the portal image runs as root}
lifetime: {defaultHours: 3, maxHours: 10}
limits: {perOwner: 2, monthlyBudget: 250.5}
cost: {currency: EUR, typeHour: {trial: 0.25}}
admins: [alice@example.com]
database: {mode: shared-schema, connectionLimit: 5}
gc: {alertWebhook: SLACK_GC_WEBHOOK}
supabase: {region: eu-west-1, plan: pro}
`

describe('the parse cache: demo.config.yaml', () => {
  it('reads back exactly what validation produced, for the built-in defaults and a config using every kind of key', async () => {
    for (const text of ['', RICH]) {
      const {sources} = project(text)
      const cache = {dir: tempDir(), buildId: 'build-1'}
      const validated = await loadConfigRemembered(sources, cache)
      assert.equal(entries(cache).length, 1, 'remembered once validated')
      assert.equal(statSync(join(cache.dir, 'config', entries(cache)[0]!)).mode & 0o777, 0o600, 'readable by the user only')
      const remembered = await loadConfigRemembered(sources, cache)
      // deepStrictEqual tells a key holding undefined from a missing one, which JSON would lose.
      assert.deepStrictEqual(remembered, validated)
      assert.deepStrictEqual(remembered, loadConfig(sources))
      assert.deepStrictEqual(remembered.project, parseProjectConfig(text, 'x'))
      assert.ok(Object.isFrozen(remembered.project.lifetime))
    }
  })

  it('uses what it remembered instead of validating again, for the same build only', async () => {
    const {sources} = project('lifetime: {maxHours: 6}\n')
    const cache = {dir: tempDir(), buildId: 'build-1'}
    await loadConfigRemembered(sources, cache)
    // Change the remembered entry behind its back: a second load that returns it did not validate.
    const file = join(cache.dir, 'config', entries(cache)[0]!)
    const entry = JSON.parse(readFileSync(file, 'utf8')) as {lifetime: {maxHours: number}}
    entry.lifetime.maxHours = 7
    writeFileSync(file, JSON.stringify(entry))

    assert.equal((await loadConfigRemembered(sources, cache)).project.lifetime.maxHours, 7)
    assert.equal((await loadConfigRemembered(sources, {...cache, buildId: 'build-2'})).project.lifetime.maxHours, 6)
    assert.equal((await loadConfigRemembered(sources, undefined)).project.lifetime.maxHours, 6)
  })

  it('a changed config is validated again', async () => {
    const {dir, sources} = project('lifetime: {maxHours: 6}\n')
    const cache = {dir: tempDir(), buildId: 'build-1'}
    await loadConfigRemembered(sources, cache)
    writeFileSync(join(dir, 'demo.config.yaml'), 'lifetime: {maxHours: "eight"}\n')

    await assert.rejects(
      loadConfigRemembered(sources, cache),
      (error: unknown) => error instanceof ConfigError && /"lifetime.maxHours"/.test(error.message),
    )
    assert.equal(entries(cache).length, 1, 'what failed is not remembered')
  })

  it('never remembers a config that fails, so every error comes from validation', async () => {
    const {sources} = project('namespacePrefx: demo-\n')
    const cache = {dir: tempDir(), buildId: 'build-1'}
    for (let i = 0; i < 2; i++) await assert.rejects(loadConfigRemembered(sources, cache), /namespacePrefx/)
    assert.deepEqual(entries(cache), [])
  })

  it('checks the paths a remembered config names every time', async () => {
    const {sources} = project('types:\n  mine: {seedFile: ../outside.sql}\n')
    const cache = {dir: tempDir(), buildId: 'build-1'}
    // The text is valid, so it is remembered; the path it names is outside the project, on the first load and on the next.
    await assert.rejects(loadConfigRemembered(sources, cache), /types\.mine\.seedFile.*outside the project/)
    assert.equal(entries(cache).length, 1)
    await assert.rejects(loadConfigRemembered(sources, cache), /types\.mine\.seedFile.*outside the project/)
  })

  it('a cache it cannot write or read is no error: the config is validated', async () => {
    const {sources} = project('lifetime: {maxHours: 6}\n')
    // A cache directory under a file cannot be made, by root either.
    const file = join(tempDir(), 'a-file')
    writeFileSync(file, '')
    assert.equal((await loadConfigRemembered(sources, {dir: join(file, 'cache'), buildId: 'build-1'})).project.lifetime.maxHours, 6)
    const garbled = {dir: tempDir(), buildId: 'build-1'}
    await loadConfigRemembered(sources, garbled)
    writeFileSync(join(garbled.dir, 'config', entries(garbled)[0]!), '{"lifetime": ')
    assert.equal((await loadConfigRemembered(sources, garbled)).project.lifetime.maxHours, 6)
  })

  it('the build id is dist/build-id of the package, and none without one (the sources under tsx)', () => {
    const root = tempDir()
    assert.equal(readBuildId(root), undefined)
    mkdirSync(join(root, 'dist'))
    writeFileSync(join(root, 'dist', 'build-id'), 'abc123\n')
    assert.equal(readBuildId(root), 'abc123')
  })
})

const TEMPLATES_DIR = join(import.meta.dirname, '../../templates')

describe('the parse cache: templates', () => {
  const input = (templates: Awaited<ReturnType<typeof loadTemplates>>) => ({
    config: projectConfigSchema.parse({}),
    demo: {id: 'k3x9a2bq', namespace: 'demo-k3x9a2bq', demoType: 'startup', createdBy: 'a@example.com', expiresAt: new Date(0), autoCleanup: true},
    database: {database: {mode: 'none' as const, schema: null, supabase: null}, secretEnv: {}},
    templates,
  })

  it('gives each template the documents its text parses to, remembered, and the same stack renders from them', async () => {
    const cache = {dir: tempDir(), buildId: 'build-1'}
    const fresh = await loadTemplates(TEMPLATES_DIR)
    const first = await loadTemplates(TEMPLATES_DIR, cache)
    const second = await loadTemplates(TEMPLATES_DIR, cache)
    assert.equal(readdirSync(join(cache.dir, 'templates')).length, new Set(fresh.map((f) => f.text)).size)
    for (const [i, file] of fresh.entries()) {
      assert.equal(file.documents, undefined, 'no cache: renderStack parses')
      assert.deepStrictEqual(first[i]!.documents, parseDocuments(file.text))
      assert.deepStrictEqual(second[i]!.documents, parseDocuments(file.text))
    }
    assert.deepStrictEqual(renderStack(input(second)), renderStack(input(fresh)))
  })

  it('uses what it remembered instead of parsing again', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'a.yaml'), 'kind: ConfigMap\n')
    const cache = {dir: tempDir(), buildId: 'build-1'}
    await loadTemplates(dir, cache)
    const [entry] = readdirSync(join(cache.dir, 'templates'))
    writeFileSync(join(cache.dir, 'templates', entry!), JSON.stringify([{kind: 'Remembered'}]))
    assert.deepStrictEqual((await loadTemplates(dir, cache))[0]!.documents, [{kind: 'Remembered'}])
    assert.deepStrictEqual((await loadTemplates(dir, {...cache, buildId: 'build-2'}))[0]!.documents, [{kind: 'ConfigMap'}])
  })

  it('leaves a template that does not parse to renderStack, and one JSON cannot keep (.inf) unremembered', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'bad.yaml'), 'kind: [unclosed\n')
    writeFileSync(join(dir, 'infinite.yaml'), 'kind: ConfigMap\ndata: {size: .inf}\n')
    const cache = {dir: tempDir(), buildId: 'build-1'}
    const [bad, infinite] = await loadTemplates(dir, cache)
    assert.equal(bad!.documents, undefined)
    // JSON would turn Infinity into null.
    assert.equal((infinite!.documents?.[0] as {data: {size: unknown}}).data.size, Infinity)
    assert.equal(existsSync(join(cache.dir, 'templates')), false, 'neither is remembered')
    assert.throws(() => renderStack(input([bad!])), /Template bad\.yaml is not valid YAML/)
  })
})

describe('isPlainJson', () => {
  it('is true only for what JSON gives back exactly', () => {
    assert.equal(isPlainJson({a: [1, 'x', true, null, {b: 2.5}]}), true)
    for (const [i, value] of [
      new Date(0),
      undefined,
      {a: undefined},
      [Number.NaN],
      Infinity,
      -0,
      new Map(),
      Object.create(null),
      () => 1,
    ].entries()) {
      assert.equal(isPlainJson(value), false, `value #${i}`)
    }
  })
})

describe('the parse cache: size', () => {
  it(`keeps the ${MAX_ENTRIES} most recently written entries of a kind`, () => {
    const cache = {dir: tempDir(), buildId: 'build-1'}
    const dir = join(cache.dir, 'templates')
    for (let i = 0; i < MAX_ENTRIES; i++) remembered(cache, 'templates', 'js-yaml', `text ${i}`).keep([i])
    // Make text 0 the oldest: the next write must delete it, and only it.
    const files = readdirSync(dir)
    for (const name of files) utimesSync(join(dir, name), new Date(2026, 0, 2), new Date(2026, 0, 2))
    const fileOf = (text: string) => files.find((name) => readFileSync(join(dir, name), 'utf8') === JSON.stringify([Number(text.split(' ')[1])]))!
    const oldest = fileOf('text 0')
    utimesSync(join(dir, oldest), new Date(2026, 0, 1), new Date(2026, 0, 1))

    remembered(cache, 'templates', 'js-yaml', 'one more').keep(['one more'])

    assert.equal(readdirSync(dir).length, MAX_ENTRIES)
    assert.equal(existsSync(join(dir, oldest)), false, 'the oldest went')
    assert.deepEqual(remembered(cache, 'templates', 'js-yaml', 'one more').found, ['one more'])
    assert.deepEqual(remembered(cache, 'templates', 'js-yaml', 'text 1').found, [1])
  })
})
