import {NoDatabases} from '../../src/adapters/databases/none.js'
import {databasesContract} from '../contract/databases.contract.js'
import {FakeDatabases} from '../fakes/fake-databases.js'

databasesContract('NoDatabases (mode none)', () => new NoDatabases())
databasesContract('fake, mode none', () => new FakeDatabases())
databasesContract('fake, mode shared-schema', () => new FakeDatabases('shared-schema'))
databasesContract('fake, mode supabase-project', () => new FakeDatabases('supabase-project'))
