/**
 * What the role of the shared database (`database.mode: shared-schema`) may do, as read from the server: create
 * checks it before anything is written and `demo doctor` reports it line by line. Pure: the adapter reads the facts.
 */
export interface SharedDatabasePrivileges {
  /** host:port/database, never the user or password. */
  where: string
  role: string
  database: string
  serverVersion: string
  superuser: boolean
  /** CREATEROLE (a superuser may create roles without it). */
  createRole: boolean
  /** CREATE on the database: may create schemas. */
  createOnDatabase: boolean
  /** Whether every role (PUBLIC) may create objects in schema `public`; null when there is no such schema. */
  publicMayCreateInPublic: boolean | null
}

/** A privilege create needs and the role lacks, with the statement a superuser runs to grant it. */
export interface MissingPrivilege {
  name: string
  grant: string
}

/** A SQL identifier, double-quoted (as the adapter quotes it), for statements shown to people. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** The privileges create needs that the role lacks (empty when it may create a schema and a login role per demo). */
export function missingPrivileges(p: SharedDatabasePrivileges): MissingPrivilege[] {
  const missing: MissingPrivilege[] = []
  if (!p.createRole && !p.superuser) missing.push({name: 'CREATEROLE', grant: `ALTER ROLE ${quoted(p.role)} CREATEROLE;`})
  if (!p.createOnDatabase && !p.superuser) {
    missing.push({name: `CREATE on database ${p.database}`, grant: `GRANT CREATE ON DATABASE ${quoted(p.database)} TO ${quoted(p.role)};`})
  }
  return missing
}

/** The statement that stops every role (and so every demo's role) from creating objects in schema `public`. */
export const REVOKE_PUBLIC_CREATE = 'REVOKE CREATE ON SCHEMA public FROM PUBLIC;'
