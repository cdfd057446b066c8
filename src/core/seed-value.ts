import {UsageError} from './errors.js'

/** The largest seed value (the row's seed_value is a Postgres INTEGER). */
export const MAX_SEED_VALUE = 2_147_483_647

/** A --seed-value: a whole number from 0 to MAX_SEED_VALUE, in decimal digits only; UsageError otherwise. */
export function parseSeedValue(text: string, flag = '--seed-value'): number {
  const value = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
  if (!Number.isInteger(value) || value > MAX_SEED_VALUE) {
    throw new UsageError(`${flag} "${text}" is not a seed value: give a whole number from 0 to ${MAX_SEED_VALUE}.`, {
      hint: `For example ${flag} 42; the same demo type and seed value give the same data.`,
    })
  }
  return value
}

/** A random seed value from four random bytes. */
export function randomSeedValue(bytes: Uint8Array): number {
  const [a = 0, b = 0, c = 0, d = 0] = bytes
  return ((a << 24) | (b << 16) | (c << 8) | d) & MAX_SEED_VALUE
}
