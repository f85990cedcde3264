import { execFileSync } from 'node:child_process'

/** Runs SQL as the admin user on the `postgres` database with psql (trust auth on loopback). */
export function psql(serverUrl: string, sql: string, database = 'postgres'): string {
  return execFileSync('psql', [databaseUrl(serverUrl, database), '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // dropping a database of 1,000 schemas takes a while on a busy disk
    timeout: 300_000,
  }).trim()
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.href
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/

function checked(name: string): string {
  if (!identifier.test(name)) throw new Error(`refusing database name "${name}"`)
  return name
}

/** Creates a fresh database, dropping a leftover of an interrupted run first. */
export function recreateDatabase(serverUrl: string, name: string): void {
  psql(serverUrl, `drop database if exists ${checked(name)} with (force)`)
  psql(serverUrl, `create database ${checked(name)}`)
}

export function dropDatabase(serverUrl: string, name: string): void {
  psql(serverUrl, `drop database if exists ${checked(name)} with (force)`)
}

export function serverVersion(serverUrl: string): string {
  return psql(serverUrl, 'show server_version')
}

/** Size of a database and how many tenant schemas it holds. */
export function catalogFigures(serverUrl: string, name: string): { bytes: number; tenantSchemas: number } {
  const [bytes, schemas] = psql(
    serverUrl,
    `select pg_database_size(current_database()), (select count(*) from pg_namespace where nspname like 'tenant\\_%')`,
    name,
  ).split('|')
  return { bytes: Number(bytes), tenantSchemas: Number(schemas) }
}
