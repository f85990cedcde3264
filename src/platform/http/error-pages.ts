import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type MessageKey, translator } from '../views/i18n.ts'
import { prepareView } from '../views/plugin.ts'
import { attemptLimits } from './attempt-limits.ts'
import { CsrfRefused, HttpError, NotFound } from './errors.ts'

const pages: Record<number, [MessageKey, MessageKey]> = {
  400: ['error.400.title', 'error.400.body'],
  403: ['error.403.title', 'error.403.body'],
  404: ['error.404.title', 'error.404.body'],
  429: ['error.429.title', 'error.429.body'],
  500: ['error.500.title', 'error.500.body'],
  503: ['error.503.title', 'error.503.body'],
}

async function render(request: FastifyRequest, reply: FastifyReply, status: number, error?: HttpError) {
  prepareView(request, reply)
  const generic = pages[status] ?? (status >= 500 ? pages[500]! : pages[400]!)
  const [titleKey, bodyKey] = error ? [error.titleKey, error.bodyKey] : generic
  const retryAfter = Number(reply.getHeader('retry-after') ?? 60)
  // from an unknown host, "back home" means the platform's Site selector
  const port = /:(\d+)$/.exec(request.headers.host ?? '')?.[1]
  const homeUrl =
    request.site?.kind === 'unknown'
      ? `${request.protocol}://${request.server.config.platformDomain}${port ? `:${port}` : ''}/`
      : '/'
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .view('errors/page', {
      status,
      homeUrl,
      title: request.t(titleKey),
      body: request.t(bodyKey, { minutes: Math.max(1, Math.ceil(retryAfter / 60)) }),
    })
}

/**
 * The page for a URL the router refuses before any hook runs (a broken %-escape, a path segment
 * longer than it reads): no plugin has decorated that request, so the page is plain HTML built
 * from the catalogue rather than the layout; it never echoes the URL back.
 */
export function routerRefusal(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const t = translator('fr')
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 404 : 400
  const [titleKey, bodyKey] = pages[status]!
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'")
    .header('x-content-type-options', 'nosniff')
    .send(
      `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${t(titleKey)}</title></head>` +
        `<body><main><h1>${t(titleKey)}</h1><p>${t(bodyKey)}</p><p><a href="/">${t('error.back')}</a></p></main></body></html>`,
    )
}

/** One place turns every failure into a French page: no stack trace, no 5xx detail, ever. */
export default fp(
  async (app) => {
    app.setErrorHandler(async (error: FastifyError, request, reply) => {
      if (error instanceof HttpError) return render(request, reply, error.statusCode, error)
      if (error.code?.startsWith('FST_CSRF_')) return render(request, reply, 403, new CsrfRefused())
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
      if (status >= 500) request.log.error({ err: error }, 'request failed')
      else request.log.info({ err: { code: error.code, message: error.message } }, 'request refused')
      return render(request, reply, status)
    })
    // probing for URLs is cheap for a scanner and costs a page render here: limit it per IP
    app.setNotFoundHandler(
      { preHandler: attemptLimits(app, 'not-found', [{ max: 120, timeWindowMs: 60_000 }]) },
      async (request, reply) => render(request, reply, 404, new NotFound()),
    )
  },
  { name: 'error-pages', dependencies: ['views', 'http'] },
)
