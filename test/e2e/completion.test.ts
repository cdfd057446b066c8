// Shell completion (@oclif/plugin-autocomplete) through the built CLI, offline: no cluster, no store, no network.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {execa} from 'execa'
import {cliSandbox, runDemo, transcript} from '../support/cli.js'

describe('shell completion (built CLI)', () => {
  it('explains itself in `demo autocomplete --help`', async () => {
    const result = await runDemo(cliSandbox(), ['autocomplete', '--help'])
    assert.equal(result.code, 0, transcript(result))
    assert.match(result.stdout, /\$ demo autocomplete \[SHELL\]/)
    assert.match(result.stdout, /zsh\|bash\|powershell/)
  })

  it('generates a bash completion that completes our commands and their flags', async () => {
    const box = cliSandbox()
    const env = {...box.env, XDG_CACHE_HOME: join(box.dir, 'cache'), DEMO_DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none'}
    const result = await runDemo(box, ['autocomplete', 'bash'], env)
    assert.equal(result.code, 0, transcript(result))
    const script = join(box.dir, 'cache/demo/autocomplete/functions/bash/demo.bash')
    assert.match(readFileSync(script, 'utf8'), /^stats --json .*--period --since$/m)
    const complete = async (words: string[]) => {
      const line = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _demo_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`
      return (await execa('bash', ['-c', line], {env: {PATH: process.env.PATH}, extendEnv: false})).stdout.split('\n')
    }
    assert.deepEqual(await complete(['demo', 'sta']), ['stats'])
    assert.ok((await complete(['demo', 'create', '--output-'])).includes('--output-env'))
  })
})
