import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { NotFound } from '../../platform/http/errors.ts'
import { languageCookie, templatesDir } from '../../platform/views/plugin.ts'
import { landingOf } from '../accounts/routes.ts'
import { localPath, parseSite, siteGroups } from './service.ts'
import { siteFirst } from '../shared/site.ts'

const oneYear = 365 * 24 * 3600
// Tutti's icon, drawn in Tutti's blue; a conservatoire's icon takes its main colour
const favicon = readFileSync(join(templatesDir, 'assets', 'favicon.svg'), 'utf8')
const tuttiBlue = '#1d4e89'

/** The public face of every host: the platform's Site selector, each tenant's home, accessibility. */
export default async function portal(app: FastifyInstance) {
  app.get('/', { constraints: { site: 'platform' } }, async (_request, reply) =>
    reply.view('portal/platform-home', { groups: siteGroups(app.registry) }),
  )

  app.get<{ Querystring: { site?: string } }>(
    '/portail',
    {
      constraints: { site: 'platform' },
      schema: { querystring: { type: 'object', properties: { site: { type: 'string', maxLength: 100 } } } },
    },
    async (request, reply) => {
      const chosen = parseSite(app.registry, request.query.site)
      if (!chosen) {
        return reply.code(400).view('portal/platform-home', {
          groups: siteGroups(app.registry),
          error: request.t('platform.siteRequired'),
        })
      }
      // keep the port the person used, so the demo on :3000 sends them to limonest.localhost:3000
      const port = /:(\d+)$/.exec(request.headers.host ?? '')?.[1]
      const host = app.registry.hostFor(chosen.tenant) + (port ? `:${port}` : '')
      const query = chosen.establishment ? `?site=${encodeURIComponent(chosen.establishment)}` : ''
      return reply.redirect(`${request.protocol}://${host}/${query}`, 303)
    },
  )

  app.get('/', { constraints: { site: 'tenant' } }, async (request, reply) => {
    const tenant = request.tenant
    if (!tenant) throw new NotFound()
    // the site chosen at sign-in is listed first
    const chosen = request.account?.establishment ?? undefined
    return reply.view('portal/tenant-home', {
      landing: request.account ? landingOf(request.account.role) : undefined,
      sites: [...tenant.config.establishments].sort(
        siteFirst(
          chosen,
          (e) => e.code,
          () => 0,
        ),
      ),
      chosenSite: chosen,
    })
  })

  app.get('/theme.css', { constraints: { site: 'tenant' } }, async (request, reply) => {
    const brand = request.tenant?.config.brand
    // colours come from the schema-validated YAML (#rrggbb only), so they are safe to emit as CSS
    const css = `:root{--brand:${brand?.primaryColor ?? '#1d4e89'};--accent:${brand?.accentColor ?? '#b3541e'}}\n`
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(css)
  })

  app.get('/favicon.svg', async (request, reply) => {
    // the colour comes from the schema-validated YAML (#rrggbb only), so it is safe in the SVG
    const color = request.tenant?.config.brand?.primaryColor ?? tuttiBlue
    return reply
      .type('image/svg+xml')
      .header('cache-control', 'public, max-age=300')
      .send(favicon.replace(tuttiBlue, color))
  })
  // browsers ask for /favicon.ico whatever the page says
  app.get('/favicon.ico', async (_request, reply) => reply.redirect('/favicon.svg', 301))

  app.get('/accessibilite', async (_request, reply) => reply.view('portal/accessibility', {}))

  app.get<{ Querystring: { lang: 'fr' | 'en'; retour?: string } }>(
    '/langue',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            lang: { type: 'string', enum: ['fr', 'en'] },
            retour: { type: 'string', maxLength: 2000 },
          },
          required: ['lang'],
        },
      },
    },
    async (request, reply) => {
      reply.setCookie(languageCookie, request.query.lang, {
        path: '/',
        maxAge: oneYear,
        sameSite: 'lax',
        httpOnly: true,
        secure: app.config.env === 'production',
      })
      return reply.redirect(localPath(request.query.retour), 303)
    },
  )
}
