import { fileURLToPath } from 'node:url'
import fastifyAccepts from '@fastify/accepts'
import fastifyView from '@fastify/view'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import nunjucks from 'nunjucks'
import { resolvePeriod } from '../tenancy/periods.ts'
import { registerComponents } from './components.ts'
import { formatDate, formatTime } from './dates.ts'
import { isLocale, type Locale, type Translate, translator } from './i18n.ts'
import { formatEuros } from './money.ts'

declare module 'fastify' {
  interface FastifyRequest {
    locale: Locale
    t: Translate
  }
  interface FastifyReply {
    /** Merged by @fastify/view into every template's data (its types omit it). */
    locals: Record<string, unknown>
  }
}

export const templatesDir = fileURLToPath(new URL('../../../templates/', import.meta.url))
export const languageCookie = 'lang'

/** The explicit choice (cookie) first, then the browser's Accept-Language, then the tenant's locale. */
function chooseLocale(request: FastifyRequest): Locale {
  const chosen = request.cookies?.[languageCookie]
  if (isLocale(chosen)) return chosen
  const accepted = request.languages(['fr', 'en'])
  if (isLocale(accepted)) return accepted
  return request.tenant?.config.locale ?? 'fr'
}

const numberFormats = { fr: new Intl.NumberFormat('fr-FR'), en: new Intl.NumberFormat('en-GB') }

/** Template helpers bound to the request's language and the tenant's timezone. */
function localsFor(request: FastifyRequest) {
  const timeZone = request.tenant?.config.timezone ?? 'Europe/Paris'
  const locale = request.locale === 'en' ? 'en-GB' : 'fr-FR'
  const t = request.t
  return {
    t,
    lang: request.locale,
    otherLang: request.locale === 'fr' ? 'en' : 'fr',
    tenant: request.tenant?.config,
    configVersion: request.tenant?.configVersion,
    path: request.url,
    fmt: {
      date: (value: Date | string) => formatDate(value, timeZone, locale),
      time: (value: Date | string) => formatTime(value, timeZone, locale),
      number: (value: number) => numberFormats[request.locale].format(value),
      euros: (cents: number) => formatEuros(cents, request.locale),
      until: (value: Date) =>
        t('date.until', {
          date: formatDate(value, timeZone, locale),
          time: formatTime(value, timeZone, locale),
        }),
    },
    period: (name: 'preregistration' | 'reenrolment') =>
      request.tenant ? resolvePeriod(request.tenant.config.periods?.[name], timeZone) : undefined,
  }
}

export function prepareView(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.t) {
    request.locale = chooseLocale(request)
    request.t = translator(request.locale)
  }
  reply.locals = { ...reply.locals, ...localsFor(request) }
}

export default fp(
  async (app) => {
    await app.register(fastifyAccepts)
    await app.register(fastifyView, {
      engine: { nunjucks },
      root: templatesDir,
      viewExt: 'njk',
      options: {
        // autoescape is nunjucks' default; said here because every page depends on it
        autoescape: true,
        throwOnUndefined: false,
        noCache: app.config.env === 'development',
        onConfigure: (env: nunjucks.Environment) => {
          registerComponents(env)
        },
      },
    })
    app.decorateRequest('locale', 'fr')
    app.decorateRequest('t', undefined as unknown as Translate)
    app.addHook('preHandler', async (request, reply) => prepareView(request, reply))
  },
  { name: 'views', dependencies: ['tenancy'] },
)
