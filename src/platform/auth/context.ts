import type { FastifyRequest } from 'fastify'
import type { Em } from '../db/orm.ts'
import type { Reader } from '../db/reads.ts'
import { Forbidden, NotFound } from '../http/errors.ts'
import type { Tenant } from '../tenancy/registry.ts'
import type { TenantConfig } from '../tenancy/tenant-config.ts'
import type { Locale, Translate } from '../views/i18n.ts'
import type { Role } from './entities.ts'

/** The signed-in account as a request knows it: who acts, for the services, the audit and the mails. */
export interface Actor {
  id: number
  role: Role
  identifiant: string
  email: string
  displayName: string
  /**
   * The site chosen at sign-in when the tenant has several establishments (null otherwise): pages
   * that list courses or contacts show this site's first.
   */
  establishment?: string | null
}

/** What a request on a tenant's host works with: its tenant, its EntityManager, its language. */
export interface TenantContext {
  tenant: Tenant
  config: TenantConfig
  /** The tenant's schema on the shared pool, for the page's reads. */
  db: Reader
  /** An EntityManager forked for the tenant, made when a service first asks for it (writes). */
  readonly em: Em
  locale: Locale
  t: Translate
  /** Origin of the tenant's portal, for the links in mails. */
  baseUrl: string
  account: Actor | undefined
}

/** A TenantContext once a role guard has admitted the request. */
export interface SignedInContext extends TenantContext {
  account: Actor
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on a tenant's host before the handlers run; undefined on the platform host. */
    ctx: TenantContext | undefined
  }
}

/** The request's tenant context; a route of the platform host has none (404). */
export function tenantContext(request: FastifyRequest): TenantContext {
  if (!request.ctx) throw new NotFound()
  return request.ctx
}

/** The context of a route behind a role guard (`app.requireRole`), with the account it admitted. */
export function signedInContext(request: FastifyRequest): SignedInContext {
  const ctx = tenantContext(request)
  if (!ctx.account) throw new Forbidden()
  return ctx as SignedInContext
}
