import type { FastifyInstance } from 'fastify'
import { NotFound } from '../http/errors.ts'
import { OutboxMail } from './entities.ts'

const newest = 100
const statuses = { pending: 'en attente', sent: 'envoyé', failed: 'échec' }

export type TextPart = { text: string } | { href: string }

/** The text part cut around its http(s) links, so the page can make them clickable (a reset link…). */
export function linkParts(text: string): TextPart[] {
  const parts: TextPart[] = []
  let last = 0
  // a sentence's final period or closing parenthesis is not part of the address
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]*[^\s<>".,;:!?)]/g)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index) })
    parts.push({ href: match[0] })
    last = match.index + match[0].length
  }
  if (last < text.length) parts.push({ text: text.slice(last) })
  return parts
}

const params = {
  type: 'object',
  properties: {
    slug: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,39}$' },
    uuid: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
  },
  required: ['slug', 'uuid'],
} as const

/**
 * `/_outbox`, the mails of every tenant, for development and the demo: registered only outside
 * production and without SMTP_URL, on the bare platform host.
 */
export default async function outboxPage(app: FastifyInstance) {
  const findMail = async (slug: string, uuid: string) => {
    const tenant = app.registry.get(slug)
    if (tenant?.status !== 'active') throw new NotFound()
    const mail = await app.orm.em.fork({ schema: tenant.schema }).findOne(OutboxMail, { uuid })
    if (!mail) throw new NotFound()
    return { tenant, mail }
  }

  app.get('/_outbox', { constraints: { site: 'platform' } }, async (_request, reply) => {
    const mails = []
    for (const tenant of app.registry.list().filter((t) => t.status === 'active')) {
      const rows = await app.orm.em.fork({ schema: tenant.schema }).find(
        OutboxMail,
        {},
        {
          fields: ['uuid', 'recipient', 'subject', 'status', 'createdAt'],
          orderBy: { createdAt: 'desc', id: 'desc' },
          limit: newest,
        },
      )
      for (const { uuid, recipient, subject, status, createdAt } of rows) {
        mails.push({
          uuid,
          recipient,
          subject,
          status,
          createdAt,
          slug: tenant.slug,
          tenantName: tenant.config.name,
        })
      }
    }
    mails.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    return reply.view('operator/outbox', { mails: mails.slice(0, newest), statuses })
  })

  app.get<{ Params: { slug: string; uuid: string } }>(
    '/_outbox/:slug/:uuid',
    { constraints: { site: 'platform' }, schema: { params } },
    async (request, reply) => {
      const { tenant, mail } = await findMail(request.params.slug, request.params.uuid)
      return reply.view('operator/outbox-mail', {
        mail,
        slug: tenant.slug,
        from: `"${tenant.config.name}" <no-reply@${app.registry.platformDomain}>`,
        replyTo: tenant.config.contact.email,
        parts: linkParts(mail.text),
        statuses,
      })
    },
  )

  // the HTML part as a page of its own, sandboxed: no script, no request anywhere, its own styles
  app.get<{ Params: { slug: string; uuid: string } }>(
    '/_outbox/:slug/:uuid/html',
    { constraints: { site: 'platform' }, schema: { params } },
    async (request, reply) => {
      const { mail } = await findMail(request.params.slug, request.params.uuid)
      return reply
        .header('content-security-policy', "sandbox; default-src 'none'; style-src 'unsafe-inline'")
        .type('text/html; charset=utf-8')
        .send(mail.html)
    },
  )
}
