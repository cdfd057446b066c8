/**
 * A closed pipe (`demo create | head -2`) or a closed terminal must never abort the work in flight, nor hang
 * the exit: after EPIPE on stdout or stderr, writes to it succeed and go nowhere, and the use case finishes or
 * rolls back as it would have. Called first thing by bin/run.js, so help and errors are covered too.
 */
export function guardProcessStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (guarded.has(stream)) continue
    guarded.add(stream)
    stream.once('error', () => dropWrites(stream))
  }
}

const guarded = new WeakSet<NodeJS.WriteStream>()

/**
 * After EPIPE every further write would fail, and oclif's final flush would wait for a 'drain' that never
 * comes (the process then ends with Node's exit code 13): writes to a closed stream succeed and go nowhere.
 */
function dropWrites(stream: NodeJS.WriteStream): void {
  stream.on('error', () => {})
  stream.write = (_chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)())
    return true
  }
  // A flush that started before the error arrived waits for 'drain': release it.
  stream.emit('drain')
}
