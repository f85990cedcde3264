import familyBilling from './features/billing/family-routes.ts'
import staffBilling from './features/billing/staff-routes.ts'
import staffRentals from './features/billing/rental-routes.ts'
import treasuryImport from './features/billing/treasury-routes.ts'
import staffDebits from './features/billing/debit-routes.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Config } from './platform/config.ts'
import { allEntities } from './entities.ts'
import dbPlugin from './platform/db/plugin.ts'
import { openOrm } from './platform/db/orm.ts'
import errorPages, { routerRefusal } from './platform/http/error-pages.ts'
import httpPlugin from './platform/http/plugin.ts'
import tenancyPlugin, { siteConstraint } from './platform/tenancy/plugin.ts'
import { TenantRegistry } from './platform/tenancy/registry.ts'
import { loadTenantConfigs } from './platform/tenancy/tenant-config.ts'
import viewsPlugin from './platform/views/plugin.ts'
import accounts from './features/accounts/routes.ts'
import accountsBackOffice from './features/accounts/staff-routes.ts'
import staffOidc from './features/accounts/oidc-routes.ts'
import backofficeCourses from './features/backoffice-courses/routes.ts'
import configuration from './features/configuration/routes.ts'
import billingGeneration from './features/billing/generation-routes.ts'
import billingLedgers from './features/billing/ledger-routes.ts'
import configurationPreview from './features/configuration/preview.ts'
import documents from './features/documents/routes.ts'
import backofficePupils from './features/backoffice-pupils/routes.ts'
import documentReview from './features/documents/staff-routes.ts'
import family from './features/family/routes.ts'
import preregistration from './features/preregistration/routes.ts'
import preregistrationReview from './features/preregistration/staff-routes.ts'
import register from './features/lessons/register-routes.ts'
import evaluations from './features/evaluations/routes.ts'
import reenrolment from './features/reenrolment/routes.ts'
import reenrolmentReview from './features/reenrolment/staff-routes.ts'
import pupils from './features/pupils/routes.ts'
import portal from './features/portal/routes.ts'
import sas from './features/sas/routes.ts'
import schoolYear from './features/school-year/routes.ts'
import staff from './features/staff/routes.ts'
import administration from './features/administration/routes.ts'
import configurationForms from './features/configuration/forms.ts'
import backofficeFamilies from './features/backoffice-families/routes.ts'
import personalData from './features/personal-data/routes.ts'
import teaching from './features/teaching/routes.ts'
import authPlugin from './platform/auth/plugin.ts'
import { loggedError, withoutTokens } from './platform/logging.ts'
import mailPlugin from './platform/mail/plugin.ts'
import metricsPlugin from './platform/metrics.ts'
import tuitionSimulator from './features/billing/simulator-routes.ts'
import absencesList from './features/lessons/absences-routes.ts'
import repertoirePieces from './features/repertoire/routes.ts'
import courseLessons from './features/lessons/course-lessons-routes.ts'
import placesStaff from './features/places/staff-routes.ts'
import placesSweep from './features/places/sweep.ts'
import placesFamily from './features/places/family-routes.ts'
import absenceNotices from './features/lessons/absence-notice-routes.ts'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface BuildOptions {
  /** Pino destination for tests; the default writes JSON lines to stdout. */
  logStream?: NodeJS.WritableStream
}

/** The whole platform, in plugin order: platform services first, features last. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  // the tenant files are validated before anything starts: a bad file stops the boot
  const registry = new TenantRegistry(loadTenantConfigs(config.tenantsDir), config)
  const orm = await openOrm(config.database, { entities: allEntities })

  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: ['req.headers.cookie', 'req.headers.authorization'],
      serializers: {
        // a private link's token opens a dossier or sets a password: it never reaches the logs
        req: (request) => ({
          method: request.method,
          url: withoutTokens(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
        err: loggedError,
      },
    },
    // every log line carries the tenant, decided from the Host exactly as routing does
    childLoggerFactory: (logger, bindings, opts, rawReq) => {
      const site = registry.resolve(rawReq.headers.host)
      const tenant = site.kind === 'tenant' ? site.tenant.slug : site.kind
      return logger.child({ ...bindings, tenant }, opts)
    },
    routerOptions: { constraints: { site: siteConstraint(registry) } },
    // only the proxies named here may say who the client is: X-Forwarded-For is client-written otherwise
    // (the union is valid; Fastify's overloads only resolve on one of its members)
    trustProxy: config.trustProxy as boolean,
    requestTimeout: 30_000,
    // a request that reaches the server while it closes is answered (the ORM closes after the last
    // one), with Connection: close, instead of a 503: a shutdown fails no request (see shutdown)
    return503OnClosing: false,
    frameworkErrors: routerRefusal,
  })
  app.decorate('config', config)

  await app.register(dbPlugin, { orm })
  await app.register(tenancyPlugin, { registry })
  await app.register(httpPlugin)
  await app.register(viewsPlugin)
  await app.register(errorPages)
  await app.register(mailPlugin)
  await app.register(metricsPlugin)
  await app.register(authPlugin)
  await app.register(configurationPreview)

  await app.register(portal)
  await app.register(accounts)
  await app.register(family)
  await app.register(pupils)
  await app.register(teaching)
  await app.register(staff)
  await app.register(billingGeneration)
  await app.register(tuitionSimulator)
  await app.register(familyBilling)
  await app.register(staffBilling)
  await app.register(billingLedgers)
  await app.register(staffRentals)
  await app.register(treasuryImport)
  await app.register(staffDebits)
  await app.register(configuration)
  await app.register(administration)
  await app.register(staffOidc)
  await app.register(configurationForms)
  await app.register(schoolYear)
  await app.register(accountsBackOffice)
  await app.register(backofficeCourses)
  await app.register(backofficeFamilies)
  await app.register(backofficePupils)
  await app.register(personalData)
  await app.register(sas)
  await app.register(documents)
  await app.register(documentReview)
  await app.register(reenrolment)
  await app.register(reenrolmentReview)
  await app.register(preregistration)
  await app.register(preregistrationReview)
  // Issue 18: the teacher's course pages and the roll call (teachers, replacements, staff)
  await app.register(register)
  // Issue 18: teachers' répertoire pieces, and staff's list of unexcused absences
  await app.register(repertoirePieces)
  await app.register(absencesList)
  // issue 18: the staff's lessons of a course and its replacements; families announcing absences
  await app.register(courseLessons)
  await app.register(absenceNotices)
  // issue 18: evaluations (teachers, staff, families' bulletins)
  await app.register(evaluations)
  // issue 19: places — offers past their deadline go to the next request
  await app.register(placesSweep)
  // issue 19: the family's side of the places (requests, answers to seats offered)
  await app.register(placesFamily)
  // issue 19: places, staff side — next year's offer, the demand, the allocations and their journal
  await app.register(placesStaff)
  return app
}

/**
 * Stops without failing a request: /readyz answers 503 at once and every response closes its
 * connection; serving goes on for `graceMs`, while the load balancer stops sending traffic; then
 * `close()` stops accepting, answers the requests in flight, and only then runs the plugins' onClose
 * hooks (mail worker, then the ORM). Fastify's own onClose, the one that waits until the server has
 * no connection left, is registered when the app gets ready, after every plugin's, and avvio runs
 * onClose hooks newest first.
 */
export async function shutdown(app: FastifyInstance, graceMs: number): Promise<void> {
  app.drain()
  if (graceMs > 0) await sleep(graceMs)
  await app.close()
}
