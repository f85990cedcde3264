import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import type { SchoolYear } from '../teaching/entities.ts'
import { drawNumber } from './allocate.ts'
import { Allocation, AllocationStatus, type OfferItem } from './entities.ts'
import { rulesInWords } from './rules.ts'
import { changeProposal, confirmAllocation, offerYear, proposeAllocation } from './service.ts'
import {
  allocationsOf,
  allocationView,
  checkItem,
  discardAllocation,
  type ItemInput,
  itemOfYear,
  itemRequests,
  itemsWithFigures,
  nextYearCourses,
  placesCsv,
  placesJournal,
  publishItem,
  refusalMessage,
  saveItem,
} from './staff-service.ts'

const notices = {
  cree: 'places.staff.done.created',
  modifie: 'places.staff.done.changed',
  publie: 'places.staff.done.published',
  retire: 'places.staff.done.unpublished',
  lance: 'places.staff.done.proposed',
  change: 'places.staff.done.changedByHand',
  confirme: 'places.staff.done.confirmed',
  abandonne: 'places.staff.done.discarded',
} as const
type Notice = keyof typeof notices

const noticeQuery = {
  type: 'object',
  properties: { fait: { type: 'string', enum: Object.keys(notices) } },
} as const

const csrf = { _csrf: { type: 'string', maxLength: 200 } } as const
const csrfOnly = { type: 'object', properties: csrf } as const

const itemBody = {
  type: 'object',
  properties: {
    ...csrf,
    // longer than the rules, so that a long text gets its message rather than a 400 page
    label: { type: 'string', maxLength: 1000 },
    discipline: { type: 'string', maxLength: 200 },
    seats: { type: 'string', maxLength: 50 },
    minAge: { type: 'string', maxLength: 50 },
    maxAge: { type: 'string', maxLength: 50 },
    levels: { type: 'string', maxLength: 2000 },
    accepts: { type: 'string', maxLength: 50 },
    description: { type: 'string', maxLength: 10000 },
  },
  patternProperties: { '^course-[0-9]{1,10}$': { type: 'string', maxLength: 10 } },
  additionalProperties: false,
} as const

// a seed drawn in public (a lottery's numbers, dice) may be typed: any printable text up to 64 characters
const seedPattern = /^[\p{L}\p{N} ._:/-]{1,64}$/u

function canAct(ctx: SignedInContext): boolean {
  return (staffAccess.records as readonly string[]).includes(ctx.account.role)
}

/** Mails to families go in the tenant's language, whoever confirms. */
const scopeOf = (ctx: SignedInContext) => ({
  config: ctx.config,
  locale: ctx.config.locale,
  baseUrl: ctx.baseUrl,
})

/**
 * Places, staff side: next year's offer (/admin/places/offre), the demand board (/admin/places),
 * an item's requests and waiting list, the allocations with their changes by hand and their
 * confirmation, the journal, and the CSV. Direction sees; the secretariat acts.
 */
export default async function placesStaff(app: FastifyInstance) {
  const read = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const write = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }

  /** Next year's row, or a page saying it is to prepare first. */
  const yearOr = async (ctx: SignedInContext, reply: FastifyReply): Promise<SchoolYear | null> => {
    const year = await offerYear(ctx.em)
    if (!year)
      await reply.view('backoffice/places/not-prepared', { title: ctx.t('places.staff.board.title') })
    return year
  }

  /** Next year's row; the routes below the pages that say "prepare it first" answer 404 without it. */
  const yearOr404 = async (ctx: SignedInContext): Promise<SchoolYear> => {
    const year = await offerYear(ctx.em)
    if (!year) throw new NotFound()
    return year
  }

  /** An allocation of next year exists: what an action checks before it changes or renders it. */
  const allocationOr404 = async (ctx: SignedInContext, year: SchoolYear, id: number): Promise<void> => {
    if ((await ctx.em.count(Allocation, { id, schoolYear: year })) === 0) throw new NotFound()
  }

  const itemOr404 = async (ctx: SignedInContext, year: SchoolYear, id: number): Promise<OfferItem> => {
    const item = await itemOfYear(ctx.em, year, id)
    if (!item) throw new NotFound()
    return item
  }

  // the demand board

  const renderBoard = async (
    request: FastifyRequest,
    reply: FastifyReply,
    year: SchoolYear,
    view: { notice?: Notice; errors?: FieldErrors; seed?: string } = {},
  ) => {
    const ctx = signedInContext(request)
    const [items, allocations] = await Promise.all([
      itemsWithFigures(ctx.db, year.id),
      allocationsOf(ctx.em, year),
    ])
    const ranks = Math.max(1, ...items.map((i) => i.figures.byRank.length))
    return reply.status(view.errors ? 400 : 200).view('backoffice/places/board', {
      title: ctx.t('places.staff.board.title'),
      year,
      notice: view.notice ? ctx.t(notices[view.notice]) : undefined,
      errors: view.errors,
      seed: view.seed ?? '',
      canAct: canAct(ctx),
      items,
      ranks: Array.from({ length: ranks }, (_, i) => i + 1),
      rules: rulesInWords(ctx.config, ctx.t),
      allocations: allocations.map((a) => ({
        id: a.id,
        status: a.status,
        item: a.item?.label ?? null,
        createdAt: a.createdAt,
        seed: a.seed,
      })),
      usesDraw: (ctx.config.places.rules as readonly string[]).includes('draw'),
    })
  }

  app.get<{ Querystring: { fait?: Notice } }>(
    '/admin/places',
    { ...read, schema: { querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr(ctx, reply)
      if (!year) return reply
      return renderBoard(request, reply, year, { notice: request.query.fait })
    },
  )

  app.get('/admin/places.csv', read, async (request, reply) => {
    const ctx = signedInContext(request)
    const year = await yearOr404(ctx)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="places-${year.label}.csv"`)
      .header('cache-control', 'no-store')
      .send(await placesCsv(ctx, year.id))
  })

  app.post<{ Body: { item?: number; seed?: string } }>(
    '/admin/places/attribuer',
    {
      ...write,
      schema: {
        body: {
          type: 'object',
          properties: { ...csrf, item: recordId, seed: { type: 'string', maxLength: 500 } },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      const seed = (request.body.seed ?? '').trim()
      if (seed && !seedPattern.test(seed))
        return renderBoard(request, reply, year, {
          errors: { seed: ctx.t('places.staff.error.seed') },
          seed,
        })
      const itemId = request.body.item ?? null
      if (itemId !== null) await itemOr404(ctx, year, itemId)
      const allocation = await ctx.em.transactional((tx) =>
        proposeAllocation(tx, ctx.account, {
          year,
          config: ctx.config,
          item: itemId,
          ...(seed ? { seed } : {}),
        }),
      )
      return reply.redirect(`/admin/places/attributions/${allocation.id}?fait=lance`, 303)
    },
  )

  app.get('/admin/places/journal', read, async (request, reply) => {
    const ctx = signedInContext(request)
    return reply.view('backoffice/places/journal', {
      title: ctx.t('places.staff.journal.title'),
      events: await placesJournal(ctx.db, ctx.t),
    })
  })

  // the offer

  app.get<{ Querystring: { fait?: Notice } }>(
    '/admin/places/offre',
    { ...read, schema: { querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr(ctx, reply)
      if (!year) return reply
      const [items, courses] = await Promise.all([
        itemsWithFigures(ctx.db, year.id),
        nextYearCourses(ctx.db, year.id),
      ])
      const names = new Map(courses.map((c) => [c.id, c.name]))
      const disciplines = new Map((ctx.config.disciplines ?? []).map((d) => [d.code, d.name]))
      return reply.view('backoffice/places/offer', {
        title: ctx.t('places.staff.offer.title', { label: year.label }),
        notice: request.query.fait ? ctx.t(notices[request.query.fait]) : undefined,
        canAct: canAct(ctx),
        year,
        noCourses: courses.length === 0,
        items: items.map((i) => ({
          ...i,
          disciplineName: disciplines.get(i.discipline) ?? i.discipline,
          courses: (i.courseIds as number[]).map((id) => names.get(id) ?? `#${id}`),
        })),
      })
    },
  )

  const renderForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    year: SchoolYear,
    form: { item?: OfferItem; input?: ItemInput; errors?: FieldErrors },
  ) => {
    const ctx = signedInContext(request)
    const courses = await nextYearCourses(ctx.db, year.id)
    const { item, errors } = form
    const input: ItemInput = form.input ?? {
      label: item?.label ?? '',
      discipline: item?.discipline ?? '',
      seats: item ? String(item.seats) : '',
      minAge: item?.minAge != null ? String(item.minAge) : '',
      maxAge: item?.maxAge != null ? String(item.maxAge) : '',
      levels: item?.levels.join(', ') ?? '',
      accepts: item?.accepts ?? 'both',
      description: item?.description ?? '',
      ...Object.fromEntries((item?.courseIds ?? []).map((id) => [`course-${id}`, '1'])),
    }
    const disciplines = [...(ctx.config.disciplines ?? [])]
    if (item && !disciplines.some((d) => d.code === item.discipline))
      disciplines.push({ code: item.discipline, name: item.discipline } as (typeof disciplines)[number])
    const labels = {
      label: ctx.t('places.staff.field.label'),
      discipline: ctx.t('places.staff.field.discipline'),
      courses: ctx.t('places.staff.field.courses'),
      seats: ctx.t('places.staff.field.seats'),
      minAge: ctx.t('places.staff.field.minAge'),
      maxAge: ctx.t('places.staff.field.maxAge'),
      levels: ctx.t('places.staff.field.levels'),
      accepts: ctx.t('places.staff.field.accepts'),
      description: ctx.t('places.staff.field.description'),
    }
    return reply.status(errors ? 400 : 200).view('backoffice/places/item-form', {
      title: item
        ? ctx.t('places.staff.form.editTitle', { label: item.label })
        : ctx.t('places.staff.form.newTitle', { label: year.label }),
      action: item ? `/admin/places/${item.id}/modifier` : '/admin/places/offre/nouveau',
      back: item ? `/admin/places/${item.id}` : '/admin/places/offre',
      input,
      errors,
      labels,
      courses: courses.map((c) => ({ ...c, checked: Boolean(input[`course-${c.id}`]) })),
      disciplines: disciplines.map((d) => ({ value: d.code, label: d.name })),
      accepts: (['both', 'reenrolment', 'preregistration'] as const).map((value) => ({
        value,
        label: ctx.t(`places.staff.accepts.${value}`),
      })),
    })
  }

  app.get('/admin/places/offre/nouveau', write, async (request, reply) => {
    const ctx = signedInContext(request)
    const year = await yearOr(ctx, reply)
    if (!year) return reply
    return renderForm(request, reply, year, {})
  })

  app.post<{ Body: ItemInput }>(
    '/admin/places/offre/nouveau',
    { ...write, schema: { body: itemBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr(ctx, reply)
      if (!year) return reply
      const checked = checkItem(request.body, ctx, await nextYearCourses(ctx.db, year.id))
      const saved = checked.errors ? checked : await saveItem(ctx, checked.values)
      if (saved.errors) return renderForm(request, reply, year, { input: request.body, errors: saved.errors })
      return reply.redirect('/admin/places/offre?fait=cree', 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/admin/places/:id/modifier',
    { ...write, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      return renderForm(request, reply, year, { item: await itemOr404(ctx, year, request.params.id) })
    },
  )

  app.post<{ Params: { id: number }; Body: ItemInput }>(
    '/admin/places/:id/modifier',
    { ...write, schema: { params: idParams, body: itemBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      const item = await itemOr404(ctx, year, request.params.id)
      const checked = checkItem(request.body, ctx, await nextYearCourses(ctx.db, year.id))
      const saved = checked.errors ? checked : await saveItem(ctx, checked.values, item.id)
      if ('notFound' in saved && saved.notFound) throw new NotFound()
      if (saved.errors)
        return renderForm(request, reply, year, { item, input: request.body, errors: saved.errors })
      return reply.redirect(`/admin/places/${item.id}?fait=modifie`, 303)
    },
  )

  for (const [path, publish, notice] of [
    ['publier', true, 'publie'],
    ['retirer', false, 'retire'],
  ] as const)
    app.post<{ Params: { id: number } }>(
      `/admin/places/:id/${path}`,
      { ...write, schema: { params: idParams, body: csrfOnly } },
      async (request, reply) => {
        const ctx = signedInContext(request)
        if (!(await publishItem(ctx, request.params.id, publish))) throw new NotFound()
        return reply.redirect(`/admin/places/${request.params.id}?fait=${notice}`, 303)
      },
    )

  // an item's requests

  app.get<{ Params: { id: number }; Querystring: { fait?: Notice } }>(
    '/admin/places/:id',
    { ...read, schema: { params: idParams, querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      const item = await itemOr404(ctx, year, request.params.id)
      const [{ lines, waitingList, allocation }, [figures], courses] = await Promise.all([
        itemRequests(ctx, year, item),
        itemsWithFigures(ctx.db, year.id).then((all) => all.filter((i) => i.id === item.id)),
        nextYearCourses(ctx.db, year.id),
      ])
      return reply.view('backoffice/places/item', {
        title: item.label,
        notice: request.query.fait ? ctx.t(notices[request.query.fait]) : undefined,
        canAct: canAct(ctx),
        year,
        item,
        figures: figures?.figures,
        courses: courses.filter((c) => item.courseIds.includes(c.id)),
        lines,
        waitingList,
        allocation,
      })
    },
  )

  // an allocation

  const renderAllocation = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    view: { notice?: Notice; errors?: FieldErrors; refusal?: string; input?: Record<string, string> } = {},
  ) => {
    const ctx = signedInContext(request)
    const year = await yearOr404(ctx)
    const found = await allocationView(ctx, year, id)
    if (!found) throw new NotFound()
    const { allocation } = found
    const example = found.perItem.flatMap((i) => [...i.given, ...i.others])[0]
    return reply.status(view.errors || view.refusal ? 400 : 200).view('backoffice/places/allocation', {
      title: ctx.t('places.staff.allocation.title', { id: allocation.id }),
      notice: view.notice ? ctx.t(notices[view.notice]) : undefined,
      errors: view.errors,
      refusal: view.refusal,
      input: view.input ?? {},
      canAct: canAct(ctx) && allocation.status === AllocationStatus.proposed,
      allocation,
      proposed: allocation.status === AllocationStatus.proposed,
      scope: allocation.item ? found.perItem[0]?.label : null,
      perItem: found.perItem,
      changes: found.changes,
      rules: rulesInWords(ctx.config, ctx.t),
      usesDraw: (allocation.rules as string[]).includes('draw'),
      example: example
        ? { id: example.id, name: example.name, draw: drawNumber(allocation.seed, example.id) }
        : null,
    })
  }

  app.get<{ Params: { id: number }; Querystring: { fait?: Notice } }>(
    '/admin/places/attributions/:id',
    { ...read, schema: { params: idParams, querystring: noticeQuery } },
    async (request, reply) =>
      renderAllocation(request, reply, request.params.id, { notice: request.query.fait }),
  )

  app.post<{ Params: { id: number }; Body: { request?: number; action?: string; reason?: string } }>(
    '/admin/places/attributions/:id/changer',
    {
      ...write,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: {
            ...csrf,
            request: recordId,
            action: { type: 'string', enum: ['give', 'remove'] },
            reason: { type: 'string', maxLength: 5000 },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      const id = request.params.id
      await allocationOr404(ctx, year, id)
      const { request: requestId, action, reason: typed = '' } = request.body
      if (!requestId || !action)
        return renderAllocation(request, reply, id, {
          refusal: refusalMessage({ refused: 'unknownRequest' }, ctx.t),
        })
      const reason = typed.trim()
      const field = `reason-${requestId}`
      const input = { [field]: typed }
      if (!reason)
        return renderAllocation(request, reply, id, {
          errors: { [field]: ctx.t('places.staff.error.reason') },
          input,
        })
      if (reason.length > 1000)
        return renderAllocation(request, reply, id, {
          errors: { [field]: ctx.t('places.staff.error.reasonLong') },
          input,
        })
      const refusal = await ctx.em.transactional((tx) =>
        changeProposal(tx, ctx.account, {
          allocation: id,
          action: action as 'give' | 'remove',
          request: requestId,
          reason,
        }),
      )
      if (refusal)
        return renderAllocation(request, reply, id, { refusal: refusalMessage(refusal, ctx.t), input })
      return reply.redirect(`/admin/places/attributions/${id}?fait=change#demande-${requestId}`, 303)
    },
  )

  app.post<{ Params: { id: number } }>(
    '/admin/places/attributions/:id/confirmer',
    { ...write, schema: { params: idParams, body: csrfOnly } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      const id = request.params.id
      await allocationOr404(ctx, year, id)
      const result = await ctx.em.transactional((tx) => confirmAllocation(tx, ctx.account, scopeOf(ctx), id))
      if ('refused' in result)
        return renderAllocation(request, reply, id, { refusal: refusalMessage(result, ctx.t) })
      return reply.redirect(`/admin/places/attributions/${id}?fait=confirme`, 303)
    },
  )

  app.post<{ Params: { id: number } }>(
    '/admin/places/attributions/:id/abandonner',
    { ...write, schema: { params: idParams, body: csrfOnly } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await yearOr404(ctx)
      const id = request.params.id
      await allocationOr404(ctx, year, id)
      const refusal = await discardAllocation(ctx, id)
      if (refusal) return renderAllocation(request, reply, id, { refusal: refusalMessage(refusal, ctx.t) })
      return reply.redirect('/admin/places?fait=abandonne', 303)
    },
  )
}
