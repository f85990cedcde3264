import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import type { Actor, SignedInContext } from '../../platform/auth/context.ts'
import { HttpError } from '../../platform/http/errors.ts'
import { isHostless } from '../../platform/tenancy/plugin.ts'
import { parseTenantConfig, type TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while an admin looks at the portal through a draft (read only). */
    preview: Preview | undefined
  }
}

export interface Preview {
  draftId: number
  /** The family whose pages are shown, when one was chosen. */
  family: string | undefined
}

/** A form posted during a preview: nothing is saved, the page says so. */
export class PreviewReadOnly extends HttpError {
  constructor() {
    super(403, 'config.preview.readOnlyTitle', 'config.preview.readOnlyBody')
  }
}

// drafts never change once written, so a parsed one can be kept; a few are enough for the admins
const parsedDrafts = new Map<string, TenantConfig>()

async function draftConfig(
  em: SignedInContext['em'],
  slug: string,
  id: number,
): Promise<TenantConfig | undefined> {
  const key = `${slug} ${id}`
  const kept = parsedDrafts.get(key)
  if (kept) return kept
  const [row] = await em.execute<{ source: string }[]>(
    'select source from platform.tenant_config_draft where id = ? and tenant_slug = ?',
    [id, slug],
  )
  if (!row) return undefined
  const { config } = parseTenantConfig(`${slug}.yaml`, row.source)
  if (!config) return undefined
  if (parsedDrafts.size >= 50) parsedDrafts.delete(parsedDrafts.keys().next().value!)
  parsedDrafts.set(key, config)
  return config
}

interface FamilyAccount extends Actor {
  familyName: string
}

/** The account of the family's first guardian who has one: the preview shows the pages it sees. */
async function familyAccount(
  em: SignedInContext['em'],
  schema: string,
  familyId: number,
): Promise<FamilyAccount | undefined> {
  const [row] = await em.execute<FamilyAccount[]>(
    `select a.id, a.role, a.identifiant, a.email, a.display_name as "displayName", g.last_name as "familyName"
       from "${schema}".guardian g join "${schema}".account a on a.id = g.account_id
      where g.family_id = ? and a.role = 'family'
      order by g.rank limit 1`,
    [familyId],
  )
  return row
}

const cookieName = (production: boolean) => (production ? '__Host-tutti_apercu' : 'tutti_apercu')

/**
 * "Voir comme une famille": an admin's browser carries a signed cookie naming a draft (and a
 * family); each page it asks for outside /admin is served with the draft's configuration, as that
 * family (or a visitor) sees it, and nothing can be posted. Any /admin page ends the preview. The
 * cookie is worth nothing without the admin's own session.
 */
export default fp(
  async (app) => {
    const production = app.config.env === 'production'
    const name = cookieName(production)
    const options = { path: '/', httpOnly: true, sameSite: 'lax', secure: production, signed: true } as const
    app.decorateRequest('preview', undefined)

    app.addHook('onRequest', async (request, reply) => {
      const raw = request.cookies[name]
      if (!raw || !request.tenant || isHostless(request.url)) return
      if (request.account?.role !== 'admin' || request.url.startsWith('/admin')) {
        reply.clearCookie(name, options)
        return
      }
      const unsigned = request.unsignCookie(raw)
      const [draftId, familyId] = (unsigned.valid ? (unsigned.value ?? '') : '').split('.').map(Number)
      const em = request.em
      const config = draftId ? await draftConfig(em, request.tenant.slug, draftId) : undefined
      if (!draftId || !config) {
        reply.clearCookie(name, options)
        return
      }
      const family = familyId ? await familyAccount(em, request.tenant.schema, familyId) : undefined
      request.preview = { draftId, family: family?.familyName }
      request.tenant = { ...request.tenant, config }
      request.account = family
        ? {
            id: family.id,
            role: family.role,
            identifiant: family.identifiant,
            email: family.email,
            displayName: family.displayName,
          }
        : undefined
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new PreviewReadOnly()
    })

    app.addHook('preHandler', async (request, reply) => {
      if (request.preview) reply.locals = { ...reply.locals, previewing: request.preview }
    })

    app.decorateReply('startPreview', function (this: FastifyReply, draftId: number, familyId?: number) {
      this.setCookie(name, `${draftId}.${familyId ?? 0}`, options)
    })
  },
  { name: 'configuration-preview', dependencies: ['auth'] },
)

declare module 'fastify' {
  interface FastifyReply {
    startPreview(draftId: number, familyId?: number): void
  }
}

/** The family pages a change shows on, by the top-level keys it changes. */
const pagesByKey: Record<string, MessageKey[]> = {
  name: ['config.preview.page.home'],
  shortName: ['config.preview.page.home'],
  brand: ['config.preview.page.home'],
  contact: ['config.preview.page.home'],
  establishments: ['config.preview.page.home'],
  periods: [
    'config.preview.page.home',
    'config.preview.page.preregistration',
    'config.preview.page.reenrolment',
  ],
  texts: ['config.preview.page.home', 'config.preview.page.reenrolment', 'config.preview.page.documents'],
  fields: ['config.preview.page.reenrolment', 'config.preview.page.identity'],
  reenrolment: ['config.preview.page.reenrolment'],
  documents: ['config.preview.page.documents', 'config.preview.page.reenrolment'],
  paymentModes: ['config.preview.page.reenrolment'],
  quotientFamilial: ['config.preview.page.reenrolment'],
  disciplines: ['config.preview.page.preregistration', 'config.preview.page.reenrolment'],
  schools: ['config.preview.page.preregistration', 'config.preview.page.identity'],
  preregistration: ['config.preview.page.preregistration'],
}

const pagePaths: Partial<Record<MessageKey, string>> = {
  'config.preview.page.home': '/',
  'config.preview.page.preregistration': '/preinscription',
  'config.preview.page.documents': '/famille/pieces',
  'config.preview.page.reenrolment': '/eleves/{pupil}/reinscription',
  'config.preview.page.identity': '/eleves/{pupil}',
}

export interface PreviewPage {
  key: MessageKey
  path: string
  touched: boolean
}

/**
 * The pages a preview offers, those the change touches first. The pupil pages need a pupil: the
 * chosen family's first is used when the preview starts.
 */
export async function previewPages(
  ctx: SignedInContext,
  before: string,
  after: string,
): Promise<PreviewPage[]> {
  const parse = (text: string) => parseTenantConfig(`${ctx.tenant.slug}.yaml`, text).config
  const [old, next] = [parse(before), parse(after)]
  const touched = new Set<MessageKey>()
  for (const key of Object.keys(pagesByKey)) {
    const a = JSON.stringify((old as Record<string, unknown> | undefined)?.[key])
    const b = JSON.stringify((next as Record<string, unknown> | undefined)?.[key])
    if (a !== b) for (const page of pagesByKey[key] ?? []) touched.add(page)
  }
  return (Object.keys(pagePaths) as MessageKey[])
    .map((key) => ({ key, path: pagePaths[key]!, touched: touched.has(key) }))
    .sort((a, b) => Number(b.touched) - Number(a.touched))
}

export interface PreviewFamily {
  id: number
  name: string
}

/** Families that can sign in, those with a re-enrolment under way first (its steps can be shown). */
export async function previewFamilies(ctx: SignedInContext): Promise<PreviewFamily[]> {
  const schema = ctx.tenant.schema
  return ctx.em.execute<PreviewFamily[]>(
    `select f.id, g.last_name || ' ' || g.first_name as name
       from "${schema}".family f
       join "${schema}".guardian g on g.family_id = f.id and g.rank = 1 and g.account_id is not null
      where f.archived_at is null
      order by exists (select 1 from "${schema}".reenrolment r where r.family_id = f.id) desc, g.sort_name, f.id
      limit 100`,
  )
}

/** Starts the preview and answers where to go: the asked page, with the family's first pupil. */
export async function startPreview(
  ctx: SignedInContext,
  reply: FastifyReply,
  draftId: number,
  familyId: number | undefined,
  page: string | undefined,
): Promise<string> {
  const path = Object.values(pagePaths).includes(page ?? '') ? page! : '/'
  let pupil: number | undefined
  if (familyId && path.includes('{pupil}')) {
    const schema = ctx.tenant.schema
    const [row] = await ctx.em.execute<{ id: number }[]>(
      `select p.id from "${schema}".pupil p where p.family_id = ?
        order by exists (select 1 from "${schema}".reenrolment r where r.pupil_id = p.id) desc, p.id limit 1`,
      [familyId],
    )
    pupil = row?.id
  }
  reply.startPreview(draftId, familyId)
  if (path.includes('{pupil}')) return pupil ? path.replace('{pupil}', String(pupil)) : '/'
  return path
}
