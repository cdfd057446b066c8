import {setTimeout as delay} from 'node:timers/promises'
import type {Sleeper} from '../core/ports.js'

export const systemSleeper: Sleeper = {
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? {signal} : undefined)
  },
}
