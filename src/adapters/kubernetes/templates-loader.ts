import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {UsageError} from '../../core/errors.js'
import type {TemplateFile} from '../../core/render-stack.js'

/**
 * Reads every `*.yaml` / `*.yml` file of a templates directory (not recursive), sorted by name, for
 * renderStack. Throws UsageError when the directory is missing or holds no templates.
 */
export async function loadTemplates(dir: string): Promise<TemplateFile[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    throw new UsageError(`Cannot read the templates directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`, {
      hint: 'Fix `templatesDir` in demo.config.yaml (relative to that file), or remove it to use the built-in stack.',
      cause: error,
    })
  }
  const yamlNames = names.filter((name) => /\.ya?ml$/.test(name)).sort()
  if (yamlNames.length === 0) {
    throw new UsageError(`The templates directory ${dir} has no .yaml files.`, {hint: 'Copy the built-in templates/ as a starting point.'})
  }
  return Promise.all(yamlNames.map(async (name) => ({name, text: await readFile(join(dir, name), 'utf8')})))
}
