import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {findConfigFile, loadConfig, parseProjectConfig} from '../../src/config.js'
import {ConfigError} from '../../src/core/errors.js'
import {defaultProjectConfig} from '../../src/core/project-config.js'
import {tempDir as makeTempDir} from '../support/databases.js'

function tempDir(): string {
  return makeTempDir('demo-config-')
}

function writeConfig(dir: string, text: string): string {
  const path = join(dir, 'demo.config.yaml')
  writeFileSync(path, text)
  return path
}

function configError(check: (error: ConfigError) => void) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    assert.equal(error.exitCode, 2)
    assert.equal(error.code, 'E_CONFIG')
    check(error)
    return true
  }
}

const builtIn = defaultProjectConfig().services

const sources = (cwd: string, env: NodeJS.ProcessEnv = {}) => ({cwd, env, packageRoot: '/pkg'})

describe('parseProjectConfig', () => {
  it('fills the built-in defaults for an empty file', () => {
    const config = parseProjectConfig('', '/x/demo.config.yaml')
    assert.deepEqual(Object.keys(config.types).sort(), ['enterprise', 'recruiting-agency', 'startup'])
    assert.equal(config.lifetime.defaultHours, 2)
    assert.equal(config.lifetime.maxExtendHours, 4)
    assert.equal(config.namespacePrefix, 'demo-')
  })

  it('reads the keys it knows', () => {
    const config = parseProjectConfig(
      'types:\n  trial: {description: Trial}\nlifetime:\n  maxHours: 6\nadmins: [root@example.com]\n',
      '/x/demo.config.yaml',
    )
    assert.deepEqual(Object.keys(config.types), ['trial'])
    assert.equal(config.lifetime.maxHours, 6)
    assert.deepEqual(config.admins, ['root@example.com'])
  })

  it('merges services over the built-in ones by name: one field of one service changes, the rest stay', () => {
    const config = parseProjectConfig('services:\n  portal: {replicas: 2}\n', '/x/demo.config.yaml')
    assert.deepEqual(Object.keys(config.services), ['api-gateway', 'identity-service', 'ats-service', 'network-service', 'portal', 'candidate'])
    assert.deepEqual(config.services.portal, {...builtIn.portal, replicas: 2})
    assert.deepEqual(config.services.candidate, builtIn.candidate)
  })

  it('adds a new service after the built-in ones, with the service defaults', () => {
    const config = parseProjectConfig('services:\n  worker: {image: "registry.example/worker:1", port: 9000}\n', '/x/demo.config.yaml')
    assert.deepEqual(Object.keys(config.services).slice(-2), ['candidate', 'worker'])
    assert.deepEqual(config.services.worker, {
      image: 'registry.example/worker:1',
      port: 9000,
      replicas: 1,
      cpu: '100m',
      memory: '128Mi',
      cpuLimit: '500m',
      memoryLimit: '256Mi',
      healthPath: '/health',
      env: {},
      supabaseServiceRole: false,
    })
  })

  it('removes a built-in service with enabled: false, and keeps one with enabled: true', () => {
    const config = parseProjectConfig(
      'services:\n  candidate: {enabled: false}\n  network-service: {enabled: false}\n  portal: {enabled: true, image: "registry.example/portal:2"}\n',
      '/x/demo.config.yaml',
    )
    assert.deepEqual(Object.keys(config.services), ['api-gateway', 'identity-service', 'ats-service', 'portal'])
    assert.equal(config.services.portal?.image, 'registry.example/portal:2')
    assert.equal(Object.hasOwn(config.services.portal ?? {}, 'enabled'), false)
  })

  it('refuses a new service without image and port, suggesting the built-in name meant', () => {
    assert.throws(
      () => parseProjectConfig('services:\n  worker: {replicas: 2}\n', '/x/demo.config.yaml'),
      configError((e) =>
        assert.match(
          e.message,
          /^\/x\/demo\.config\.yaml: "services\.worker": "worker" is not a built-in service, so it needs image and port; missing: image, port$/,
        ),
      ),
    )
    assert.throws(
      () => parseProjectConfig('services:\n  constructor: {replicas: 1}\n', '/x/demo.config.yaml'),
      configError((e) => assert.match(e.message, /"services\.constructor": "constructor" is not a built-in service/)),
    )
    assert.throws(
      () => parseProjectConfig('services:\n  portl: {enabled: false}\n', '/x/demo.config.yaml'),
      configError((e) => assert.match(e.message, /"services\.portl": "portl" is not a built-in service.*did you mean "portal"\?/)),
    )
  })

  it('says why a service field is refused', () => {
    assert.throws(
      () => parseProjectConfig('services:\n  portal: {replicas: 11}\n', '/x/demo.config.yaml'),
      configError((e) => assert.equal(e.message, '/x/demo.config.yaml: "services.portal.replicas": 11 is more than the maximum of 10')),
    )
  })

  it('refuses a config that disables every service', () => {
    const all = Object.keys(builtIn)
      .map((name) => `  ${name}: {enabled: false}\n`)
      .join('')
    assert.throws(
      () => parseProjectConfig(`services:\n${all}`, '/x/demo.config.yaml'),
      configError((e) => assert.match(e.message, /"services": .*at least one/)),
    )
  })

  it('replaces the built-in demo types instead of merging them', () => {
    const config = parseProjectConfig('types:\n  trial: {description: Trial, seed: startup}\n', '/x/demo.config.yaml')
    assert.deepEqual(config.types, {trial: {description: 'Trial', seed: 'startup'}})
  })

  it('refuses malformed YAML, naming the file and the line', () => {
    assert.throws(
      () => parseProjectConfig('lifetime:\n  maxHours: [1, 2\n', '/x/demo.config.yaml'),
      configError((e) => {
        assert.match(e.message, /^\/x\/demo\.config\.yaml is not valid YAML: /)
        assert.match(e.message, /\(3:1\)$/) // js-yaml reports (line:column)
        assert.doesNotMatch(e.message, /\n/)
        assert.match(e.hint ?? '', /YAML syntax/)
      }),
    )
  })

  it('refuses an unknown top-level key, naming the file and the key', () => {
    assert.throws(
      () => parseProjectConfig('namespacePrefx: demo-\n', '/x/demo.config.yaml'),
      configError((e) => {
        assert.match(e.message, /^\/x\/demo\.config\.yaml: /)
        assert.match(e.message, /namespacePrefx/)
        assert.match(e.hint ?? '', /Edit \/x\/demo\.config\.yaml/)
      }),
    )
  })

  it('refuses an unknown nested key, naming its path', () => {
    assert.throws(
      () => parseProjectConfig('lifetime:\n  maxHourz: 3\n', '/x/demo.config.yaml'),
      configError((e) => {
        assert.match(e.message, /^\/x\/demo\.config\.yaml: "lifetime": /)
        assert.match(e.message, /maxHourz/)
      }),
    )
  })

  it('suggests the key meant for an unknown key, at every level', () => {
    const cases: [string, string][] = [
      ['servics: {}\n', '"(top level)": unknown key "servics"; did you mean "services"?'],
      ['lifetime:\n  maxHourz: 3\n', '"lifetime": unknown key "maxHourz"; did you mean "maxHours"?'],
      ['ingress:\n  clasName: traefik\n', '"ingress": unknown key "clasName"; did you mean "className"?'],
      ['podSecurity:\n  levle: baseline\n', '"podSecurity": unknown key "levle"; did you mean "level"?'],
      ['types:\n  trial: {sead: startup}\n', '"types.trial": unknown key "sead"; did you mean "seed"?'],
      ['services:\n  api: {image: api:1, port: 80, replicsa: 2}\n', '"services.api": unknown key "replicsa"; did you mean "replicas"?'],
    ]
    for (const [text, expected] of cases) {
      assert.throws(
        () => parseProjectConfig(text, '/x/demo.config.yaml'),
        configError((e) => assert.equal(e.message, `/x/demo.config.yaml: ${expected}`)),
      )
    }
  })

  it('lists the known keys when an unknown key is close to none of them', () => {
    assert.throws(
      () => parseProjectConfig('nonsense: true\n', '/x/demo.config.yaml'),
      configError((e) =>
        assert.match(
          e.message,
          /^\/x\/demo\.config\.yaml: "\(top level\)": unknown key "nonsense"; known keys: namespacePrefix, templatesDir, services, /,
        ),
      ),
    )
  })

  it('refuses a value of the wrong type, naming the file and the dotted key', () => {
    assert.throws(
      () => parseProjectConfig('lifetime:\n  maxHours: "eight"\n', '/x/demo.config.yaml'),
      configError((e) => assert.match(e.message, /^\/x\/demo\.config\.yaml: "lifetime\.maxHours": .*number/i)),
    )
    assert.throws(
      () => parseProjectConfig('services:\n  api:\n    image: x\n    port: 99999\n', '/x/demo.config.yaml'),
      configError((e) => assert.match(e.message, /"services\.api\.port"/)),
    )
  })

  it('names the rule and the values found when the lifetime bounds contradict each other', () => {
    assert.throws(
      () => parseProjectConfig('lifetime:\n  minHours: 5\n  defaultHours: 2\n', '/x/demo.config.yaml'),
      configError((e) => assert.equal(e.message, '/x/demo.config.yaml: "lifetime": minHours (5) <= defaultHours (2) <= maxHours (8) must hold')),
    )
  })

  it('shows the value found next to the rule it breaks', () => {
    const cases: [string, string][] = [
      ['lifetime:\n  maxHours: "eight"\n', '"lifetime.maxHours": "eight" is not a number'],
      ['services:\n  api:\n    image: api:1\n    port: 3000\n    replicas: 11\n', '"services.api.replicas": 11 is more than the maximum of 10'],
      ['limits:\n  perOwner: 0\n', '"limits.perOwner": 0 is less than the minimum of 1'],
      ['podSecurity:\n  level: privileged\n', '"podSecurity.level": "privileged" is not one of "restricted", "baseline"'],
      [
        'ingress:\n  portalUrl: https://portal.example.com\n',
        '"ingress.portalUrl": "https://portal.example.com" is not a URL containing the placeholder {id}',
      ],
      ['quota:\n  pods: lots\n', '"quota.pods": "lots" is not a Kubernetes quantity such as "500m", "2" or "4Gi"'],
      ['services:\n  Web:\n    image: web:1\n    port: 80\n', '"services.Web": the name "Web" is not a DNS-1123 label'],
      ['lifetime:\n  maxExtensions: 1.5\n', '"lifetime.maxExtensions": 1.5 is not a whole number'],
      ['- a\n- b\n', '"(top level)": ["a","b"] is not a mapping'],
    ]
    for (const [text, expected] of cases) {
      assert.throws(
        () => parseProjectConfig(text, '/x/demo.config.yaml'),
        configError((e) =>
          assert.ok(e.message.startsWith(`/x/demo.config.yaml: ${expected}`), `${e.message}\n  expected to start with: ${expected}`),
        ),
      )
    }
  })

  it('lists every problem, each with its key and value, under a short first line', () => {
    assert.throws(
      () => parseProjectConfig('lifetme: 3\nlifetime:\n  maxHours: x\nlimits:\n  perOwner: 0\n', '/x/demo.config.yaml'),
      configError((e) => {
        const [first, ...rest] = e.message.split('\n')
        assert.equal(first, '/x/demo.config.yaml: 3 problems:')
        assert.deepEqual(
          rest.map((line) => line.trim()).sort(),
          [
            '"(top level)": unknown key "lifetme"; did you mean "lifetime"?',
            '"lifetime.maxHours": "x" is not a number',
            '"limits.perOwner": 0 is less than the minimum of 1',
          ].sort(),
        )
        assert.doesNotMatch(e.message, /and \d+ more/)
      }),
    )
  })

  it('refuses a namespacePrefix in the kube- space Kubernetes reserves, naming the file, the key, the value and the rule', () => {
    for (const prefix of ['kube-', 'kube-demo-']) {
      assert.throws(
        () => parseProjectConfig(`namespacePrefix: ${prefix}\n`, '/x/demo.config.yaml'),
        configError((e) => {
          assert.ok(e.message.startsWith(`/x/demo.config.yaml: "namespacePrefix": "${prefix}" `), e.message)
          assert.match(e.message, /reserve/)
          assert.match(e.message, /ending in "-"/)
        }),
      )
    }
  })

  it('refuses a namespacePrefix that with some id would name a built-in namespace, or reads as one', () => {
    // "d" + the valid id "efault" is "default".
    for (const prefix of ['d', 'default-']) {
      assert.throws(
        () => parseProjectConfig(`namespacePrefix: ${prefix}\n`, '/x/demo.config.yaml'),
        configError((e) => {
          assert.ok(e.message.startsWith(`/x/demo.config.yaml: "namespacePrefix": "${prefix}" `), e.message)
          assert.match(e.message, /default/)
        }),
      )
    }
  })

  it('takes a namespacePrefix that cannot reach a built-in namespace', () => {
    for (const prefix of ['demo-', 'k', 'kubex-', 'defaults-', 'acme-demo-']) {
      assert.equal(parseProjectConfig(`namespacePrefix: ${prefix}\n`, '/x/demo.config.yaml').namespacePrefix, prefix)
    }
  })
})

describe('loadConfig', () => {
  it('finds demo.config.yaml in a parent directory', () => {
    const root = tempDir()
    const path = writeConfig(root, 'lifetime:\n  maxHours: 6\n')
    const nested = join(root, 'a', 'b')
    mkdirSync(nested, {recursive: true})
    assert.equal(findConfigFile(nested), path)
    const loaded = loadConfig(sources(nested))
    assert.equal(loaded.configPath, path)
    assert.equal(loaded.project.lifetime.maxHours, 6)
    assert.ok(Object.isFrozen(loaded.project.lifetime))
  })

  it('uses the built-in defaults when there is no file', () => {
    const loaded = loadConfig(sources(tempDir()))
    // A stray demo.config.yaml above the temp dir would make this meaningless.
    if (loaded.configPath === null) assert.equal(loaded.templatesDir, '/pkg/templates')
  })

  it('takes DEMO_CONFIG over the file found upward, and names a missing one', () => {
    const root = tempDir()
    writeConfig(root, 'lifetime:\n  maxHours: 6\n')
    const other = join(tempDir(), 'other.yaml')
    writeFileSync(other, 'lifetime:\n  maxHours: 7\n')
    assert.equal(loadConfig(sources(root, {DEMO_CONFIG: other})).project.lifetime.maxHours, 7)
    assert.throws(
      () => loadConfig(sources(root, {DEMO_CONFIG: '/nonexistent/demo.yaml'})),
      configError((e) => assert.match(e.message, /\/nonexistent\/demo\.yaml does not exist/)),
    )
  })

  it('reports a malformed file by its absolute path', () => {
    const root = tempDir()
    const path = writeConfig(root, 'lifetime:\n  maxHours: "eight"\n')
    assert.throws(
      () => loadConfig(sources(root)),
      configError((e) => assert.ok(e.message.startsWith(`${path}: "lifetime.maxHours"`), e.message)),
    )
  })

  it('refuses a templatesDir that does not exist, naming file and key', () => {
    const root = tempDir()
    const path = writeConfig(root, 'templatesDir: ./nope\n')
    assert.throws(
      () => loadConfig(sources(root)),
      configError((e) => assert.ok(e.message.startsWith(`${path}: "templatesDir"`), e.message)),
    )
  })

  it('takes DEMO_DATABASE_URL, else DATABASE_URL, else the embedded store', () => {
    const root = tempDir()
    assert.equal(loadConfig(sources(root, {DEMO_DATABASE_URL: 'postgres://a/b', DATABASE_URL: 'postgres://c/d'})).databaseUrl, 'postgres://a/b')
    assert.equal(loadConfig(sources(root, {DATABASE_URL: 'postgres://c/d'})).databaseUrl, 'postgres://c/d')
    assert.equal(loadConfig(sources(root, {DEMO_DATABASE_URL: ''})).databaseUrl, null)
  })
})
