// The CLI's own surface: version, help, unknown commands. Through the built bin/run.js.
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import * as oclif from '@oclif/core'
import pg from 'pg'
import {KUBERNETES_CLIENT_NAMES} from '../../src/adapters/kubernetes/kubernetes-client-names.js'
import {BIN, cliSandbox, jsonOf, REPO_ROOT, runDemo, transcript} from '../support/cli.js'
import {testDatabaseUrl} from '../support/databases.js'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {name: string; version: string}

describe('demo --version and --help', () => {
  it('prints name/version platform-arch node-version, like oclif would, and exits 0', async () => {
    for (const flag of ['--version', '-v']) {
      const result = await runDemo(cliSandbox(), [flag])
      assert.equal(result.code, 0, transcript(result))
      assert.equal(result.stdout, `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
    }
  })

  it('lists every command in --help', async () => {
    const result = await runDemo(cliSandbox(), ['--help'])
    assert.equal(result.code, 0, transcript(result))
    for (const command of ['create', 'destroy', 'list', 'get', 'extend', 'config']) assert.match(result.stdout, new RegExp(`^\\s+${command}\\s`, 'm'))
  })

  it('answers a lone --help from the help rendered at build time, identical to what oclif renders now', async () => {
    const box = cliSandbox()
    const prerendered = await runDemo(box, ['--help'])
    const live = await runDemo(box, ['help'], {COLUMNS: '80'})
    assert.equal(live.code, 0, transcript(live))
    assert.equal(prerendered.stdout, live.stdout)
    assert.match(
      prerendered.stdout,
      new RegExp(`^VERSION\n  ${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version.replaceAll('.', '\\.')}$`, 'm'),
    )
  })

  it('refuses an unknown command with exit 2', async () => {
    const result = await runDemo(cliSandbox(), ['launch'])
    assert.equal(result.code, 2, transcript(result))
    assert.match(result.stderr, /^Error: Unknown command "launch"\.$/m)
  })

  it('suggests the command a typo meant, in the words typed (never topic:command), and runs nothing', async () => {
    for (const [typed, meant] of [
      ['creat', 'create'],
      ['lst', 'list'],
      ['destory', 'destroy'],
    ] as const) {
      const result = await runDemo(cliSandbox(), [typed, 'x'])
      assert.equal(result.code, 2, transcript(result))
      assert.match(result.stderr, new RegExp(`^Error: Unknown command "${typed}"\\.$`, 'm'))
      assert.match(result.stderr, new RegExp(`^Hint: Did you mean \`demo ${meant}\`\\? Run \`demo --help\` for the list of commands\\.$`, 'm'))
      assert.doesNotMatch(result.stderr, /:x/)
    }
  })

  it('takes the aliases people type (ls, rm, delete), `demo version`, `demo --json list` and `demo create help`', async () => {
    const box = cliSandbox()
    const listed = await runDemo(box, ['ls', '--json'])
    assert.equal(listed.code, 0, transcript(listed))
    assert.deepEqual(jsonOf<{demos: unknown[]}>(listed).demos, [])
    const flagFirst = await runDemo(box, ['--json', 'list'])
    assert.equal(flagFirst.code, 0, transcript(flagFirst))
    assert.deepEqual(jsonOf<{demos: unknown[]}>(flagFirst).demos, [])
    for (const alias of ['rm', 'delete']) {
      const refused = await runDemo(box, [alias, 'abcdefgh', '--yes'])
      assert.equal(refused.code, 1, transcript(refused))
      assert.match(refused.stderr, /No demo/)
    }
    const version = await runDemo(box, ['version'])
    assert.equal(version.stdout, `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
    const help = await runDemo(box, ['create', 'help'])
    assert.equal(help.code, 0, transcript(help))
    assert.match(help.stdout, /^USAGE\n {2}\$ demo create/m)
  })

  it('exits 0 when a pipe closes early (`demo create --help | head -1`)', async () => {
    const piped = await execa('bash', ['-c', `"${process.execPath}" "${BIN}" create --help | head -1; exit "\${PIPESTATUS[0]}"`], {
      reject: false,
      env: cliSandbox().env,
      extendEnv: false,
    })
    assert.equal(piped.exitCode, 0, String(piped.stderr))
    assert.equal(String(piped.stderr), '')
  })
})

describe('the built Kubernetes client bundle', () => {
  it('exports exactly the client names the adapter uses (the one list in kubernetes-client-names.ts)', async () => {
    const bundle = (await import(pathToFileURL(join(REPO_ROOT, 'dist', 'vendor', 'kubernetes-client.js')).href)) as Record<string, unknown>
    assert.deepEqual(Object.keys(bundle).sort(), [...KUBERNETES_CLIENT_NAMES].sort())
    for (const name of KUBERNETES_CLIENT_NAMES) assert.notEqual(bundle[name], undefined, `${name} is undefined in the bundle`)
  })
})

describe('the built oclif bundle', () => {
  it('exports to ES modules every name the package exports', async () => {
    const bundle = (await import(pathToFileURL(join(REPO_ROOT, 'dist', 'vendor', 'oclif-core.cjs')).href)) as Record<string, unknown>
    // Node's names for a CommonJS module as a whole are not oclif's.
    const names = Object.keys(oclif).filter((name) => name !== 'default' && name !== 'module.exports')
    assert.ok(names.includes('Config') && names.includes('Command'), names.join(', '))
    assert.deepEqual(
      names.filter((name) => bundle[name] === undefined),
      [],
    )
  })

  it('is the only oclif a command loads, for our commands and for the help plugin alike', async () => {
    const box = cliSandbox()
    // Every module the process loads (ES modules and require()d ones), one URL per line.
    const loaded = join(box.dir, 'loaded.txt')
    const recorder = join(box.dir, 'record-loads.mjs')
    writeFileSync(
      recorder,
      "import {appendFileSync} from 'node:fs'\nimport {registerHooks} from 'node:module'\n" +
        'registerHooks({load(url, context, next) { appendFileSync(process.env.DEMO_TEST_LOADED, url + "\\n"); return next(url, context) }})\n',
    )
    for (const args of [
      ['create', '--help'],
      ['help', 'create'],
    ]) {
      writeFileSync(loaded, '')
      const result = await runDemo(box, args, {NODE_OPTIONS: `--import ${pathToFileURL(recorder).href}`, DEMO_TEST_LOADED: loaded})
      assert.equal(result.code, 0, transcript(result))
      assert.match(result.stdout, /USAGE\n {2}\$ demo create/)
      const urls = readFileSync(loaded, 'utf8').split('\n')
      assert.ok(
        urls.includes(pathToFileURL(join(REPO_ROOT, 'dist', 'vendor', 'oclif-core.cjs')).href),
        `demo ${args.join(' ')} did not load the bundle`,
      )
      assert.deepEqual(
        urls.filter((url) => url.includes('/node_modules/@oclif/core/')),
        [],
        `demo ${args.join(' ')} loaded oclif's package too`,
      )
    }
  })
})

describe('the built pg bundle', () => {
  it('is what the built adapters load, exports what the package exports, and talks to PostgreSQL', async () => {
    const bundleUrl = pathToFileURL(join(REPO_ROOT, 'dist', 'vendor', 'pg.cjs')).href
    const bundle = ((await import(bundleUrl)) as {default: typeof pg}).default
    const {loadPg} = (await import(pathToFileURL(join(REPO_ROOT, 'dist', 'adapters', 'postgres', 'pg-module.js')).href)) as {
      loadPg: () => Promise<typeof pg>
    }
    assert.equal(await loadPg(), bundle, 'dist/adapters load the bundle, not the package')
    assert.notEqual(bundle, pg)
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(pg).sort())
    assert.equal(bundle.native, null, 'pg.native stays null without pg-native, as from the package')
    const client = new bundle.Client({connectionString: testDatabaseUrl()})
    await client.connect()
    try {
      const {rows} = await client.query<{n: number; t: Date}>('SELECT $1::int + 1 AS n, now() AS t', [41])
      assert.equal(rows[0]?.n, 42)
      assert.ok(rows[0]?.t instanceof Date, 'the bundle parses types as the package does')
    } finally {
      await client.end()
    }
  })
})
