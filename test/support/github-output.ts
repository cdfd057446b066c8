import assert from 'node:assert/strict'

/** GitHub's `name<<DELIMITER` file, read back the way the runner reads it. */
export function parseGithubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([\w-]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const end = lines.indexOf(match[2]!, i + 1)
    assert.ok(end > i, `no closing delimiter for ${match[1]}`)
    outputs[match[1]!] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return outputs
}
