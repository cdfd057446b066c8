import {deserialize, serialize} from 'node:v8'
import {DemoError, DuplicateError, StoreError, StoreLockTimeoutError, StoreUnavailableError} from '../../core/errors.js'

/*
 * What a `demo` process and the embedded store's server (store-server.ts) say to each other over the store's
 * local socket: length-prefixed frames of V8's structured serialization, so rows keep their Dates, Buffers and
 * JSON values exactly as PGlite returned them. Every request has an id; its answer carries the same id.
 */

export type StoreRequest =
  | {id: number; op: 'hello'; key: string}
  | {id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number}
  | {id: number; op: 'begin'}
  | {id: number; op: 'end'; tx: number; commit: boolean}

export interface WireError {
  name: string
  message: string
  hint?: string
}

export type StoreReply =
  | {id: number; ok: true; value: unknown}
  | {id: number; ok: false; error: WireError}
  /** Told to every client, unasked: the server waits for another process's lock (embedded-lock.ts `notice`). */
  | {notice: string}

/** One frame: a 4-byte big-endian length, then the serialized message. */
export function frame(message: StoreRequest | StoreReply): Buffer {
  const body = serialize(message)
  const header = Buffer.alloc(4)
  header.writeUInt32BE(body.length)
  return Buffer.concat([header, body])
}

/** Cuts a byte stream into messages; keeps an incomplete frame until the rest arrives. */
export class FrameReader<T> {
  private buffered: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): T[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    const messages: T[] = []
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0)
      if (this.buffered.length < 4 + length) break
      messages.push(deserialize(this.buffered.subarray(4, 4 + length)) as T)
      this.buffered = this.buffered.subarray(4 + length)
    }
    return messages
  }
}

export function toWireError(error: unknown): WireError {
  if (error instanceof DemoError) return {name: error.name, message: error.message, hint: error.hint}
  if (error instanceof Error) return {name: error.name, message: error.message}
  return {name: 'Error', message: String(error)}
}

const REVIVED = {DuplicateError, StoreError, StoreLockTimeoutError, StoreUnavailableError} as const

/**
 * The server's failure as the same kind of error the store would have thrown in this process (store-errors.ts
 * classifies in the server, where PGlite runs); anything else is a StoreError with the server's message.
 */
export function fromWireError(wire: WireError): DemoError {
  const Kind = REVIVED[wire.name as keyof typeof REVIVED] ?? StoreError
  return new Kind(wire.message, {hint: wire.hint})
}
