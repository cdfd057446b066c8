import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {openPreferences, readPreferences} from '../../src/adapters/preferences.js'
import {ConfigError, UsageError} from '../../src/core/errors.js'
import {defaultProjectConfig} from '../../src/core/project-config.js'
import {assertPreferenceKey, validatePreference} from '../../src/core/validate-preference.js'
import {tempDir} from '../support/databases.js'

function envWithDir(): {env: NodeJS.ProcessEnv; file: string} {
  const dir = tempDir('demo-prefs-')
  return {env: {DEMO_PREFERENCES_DIR: dir}, file: join(dir, 'preferences.json')}
}

const project = defaultProjectConfig()

describe('validatePreference', () => {
  it('accepts a type the project defines and a duration within the lifetime bounds', () => {
    assert.equal(validatePreference('type', 'startup', project), 'startup')
    assert.equal(validatePreference('duration', ' 90m ', project), '90m')
    assert.equal(validatePreference('duration', '1h', project), '1h')
    assert.equal(validatePreference('duration', '8h', project), '8h')
  })

  it('refuses a type the project does not define, listing the ones it does', () => {
    assert.throws(
      () => validatePreference('type', 'megacorp', project),
      (e: unknown) =>
        e instanceof UsageError &&
        e.exitCode === 2 &&
        e.message === 'Unknown demo type "megacorp".' &&
        /recruiting-agency, enterprise, startup/.test(e.hint ?? ''),
    )
  })

  for (const value of ['59m', '8h1m', '0', '2d']) {
    it(`refuses duration "${value}" as out of range`, () => {
      assert.throws(
        () => validatePreference('duration', value, project),
        (e: unknown) =>
          e instanceof UsageError &&
          /^duration must be between 1h and 8h, got .+\.$/.test(e.message) &&
          /^Run `demo config set duration 2h`/.test(e.hint ?? ''),
      )
    })
  }

  it("refuses an unparseable duration with the parser's message", () => {
    assert.throws(
      () => validatePreference('duration', 'later', project),
      (e: unknown) => e instanceof UsageError && e.message === 'Cannot parse duration "later".',
    )
  })

  it('knows only type and duration', () => {
    assert.doesNotThrow(() => assertPreferenceKey('type'))
    assert.doesNotThrow(() => assertPreferenceKey('duration'))
    assert.throws(
      () => assertPreferenceKey('owner'),
      (e: unknown) => e instanceof UsageError && e.hint === 'Use one of: type, duration.',
    )
  })
})

describe('the preferences file', () => {
  it('lives in DEMO_PREFERENCES_DIR and is not created by reading', () => {
    const {env, file} = envWithDir()
    const preferences = openPreferences(env)
    assert.equal(preferences.path, file)
    assert.deepEqual(preferences.all(), {})
    assert.equal(preferences.get('type'), undefined)
    assert.deepEqual(readPreferences(env), {})
    assert.equal(existsSync(file), false)
  })

  it('stores, reads back and removes values', () => {
    const {env, file} = envWithDir()
    const preferences = openPreferences(env)
    preferences.set('type', 'startup')
    preferences.set('duration', '90m')
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {type: 'startup', duration: '90m'})
    assert.deepEqual(readPreferences(env), {type: 'startup', duration: '90m'})
    assert.equal(preferences.unset('type'), true)
    assert.equal(preferences.unset('type'), false)
    assert.deepEqual(openPreferences(env).all(), {duration: '90m'})
  })

  it('drops unknown keys and values of the wrong type when reading', () => {
    const {env, file} = envWithDir()
    writeFileSync(file, JSON.stringify({type: 3, duration: '2h', colour: 'blue', extra: {a: 1}}))
    assert.deepEqual(readPreferences(env), {duration: '2h'})
  })

  for (const [what, text] of [
    ['invalid JSON', '{"type": '],
    ['a JSON array', '["startup"]'],
    ['JSON null', 'null'],
  ] as const) {
    it(`reads a file holding ${what} as no preferences for create, with a warning, and leaves it alone`, () => {
      const {env, file} = envWithDir()
      writeFileSync(file, text)
      const warnings: string[] = []
      assert.deepEqual(
        readPreferences(env, (m) => warnings.push(m)),
        {},
      )
      assert.deepEqual(warnings, [`Ignoring preferences: Preferences file ${file} is not a JSON object.`])
      assert.equal(readFileSync(file, 'utf8'), text)
    })

    it(`refuses to open a file holding ${what} for \`demo config\`, naming it`, () => {
      const {env, file} = envWithDir()
      writeFileSync(file, text)
      assert.throws(
        () => openPreferences(env),
        (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && e.message.includes(file) && (e.hint ?? '').includes(file),
      )
      assert.equal(readFileSync(file, 'utf8'), text)
    })
  }

  // One parser behind both ways in: they cannot disagree about what a valid file is or what it holds.
  for (const text of [
    '{}',
    '{"type": "startup", "duration": "2h"}',
    '{"type": 3, "duration": " ", "colour": "blue"}',
    '{"type": ',
    '[]',
    'null',
    '"startup"',
    '42',
    '',
  ]) {
    it(`reads ${JSON.stringify(text)} the same way for create and for \`demo config\``, () => {
      const {env, file} = envWithDir()
      writeFileSync(file, text)
      const warnings: string[] = []
      const forCreate = readPreferences(env, (m) => warnings.push(m))
      let forConfig: unknown
      try {
        forConfig = openPreferences(env).all()
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error))
        forConfig = 'refused'
      }
      assert.deepEqual(forConfig, warnings.length > 0 ? 'refused' : forCreate)
    })
  }

  it('keeps keys it does not know when `demo config set` writes the file', () => {
    const {env, file} = envWithDir()
    writeFileSync(file, JSON.stringify({colour: 'blue'}))
    openPreferences(env).set('type', 'startup')
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {colour: 'blue', type: 'startup'})
  })
})
