import {demoStoreContract} from '../contract/demo-store.contract.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

demoStoreContract('in-memory fake', async () => ({store: new MemoryDemoStore(), close: async () => {}}))
