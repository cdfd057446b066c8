import {statsContract} from '../contract/stats.contract.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'
import {MemoryStats} from '../fakes/memory-stats.js'

statsContract('in-memory fake', async () => {
  const store = new MemoryDemoStore()
  return {
    store,
    stats: new MemoryStats(store),
    addEvent: async (event) => {
      store.log.push(event)
    },
    close: async () => {},
  }
})
