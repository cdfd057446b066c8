import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {UsageError} from '../../core/errors.js'
import {parseDocuments, type TemplateFile} from '../../core/render-stack.js'
import {remembered, type ParseCache} from '../../parse-cache.js'

/**
 * Reads every `*.yaml` / `*.yml` file of a templates directory (not recursive), sorted by name, for
 * renderStack. Throws UsageError when the directory is missing or holds no templates. With a cache, each file's
 * YAML documents come as parsed before for the same text (a cold YAML parser costs ~30 ms of CPU for the built-in
 * stack); a text not seen before is parsed here once and remembered, one that does not parse is left to
 * renderStack, which names the template in its error.
 */
export async function loadTemplates(dir: string, cache?: ParseCache): Promise<TemplateFile[]> {
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
  const files = await Promise.all(yamlNames.map(async (name) => ({name, text: await readFile(join(dir, name), 'utf8')})))
  return files.map((file) => ({...file, documents: cache ? documentsOf(file.text, cache) : undefined}))
}

function documentsOf(text: string, cache: ParseCache): unknown[] | undefined {
  const entry = remembered(cache, 'templates', 'js-yaml', text)
  if (Array.isArray(entry.found)) return entry.found as unknown[]
  let documents: unknown[]
  try {
    documents = parseDocuments(text)
  } catch {
    return undefined
  }
  entry.keep(documents)
  return documents
}
