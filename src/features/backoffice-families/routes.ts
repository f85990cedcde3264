import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { blockLabels, type FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { formFields, fullName, guardianFields, guardianValues, mandatoryFields } from '../family/service.ts'
import { isMinor, pupilFields, pupilValues } from '../pupils/service.ts'
import { displayValue } from '../sas/service.ts'
import { currentSchoolYear } from '../teaching/service.ts'
import { type FamilyState, familyList, familyPageData } from './reads.ts'
import { searchTerms } from './search.ts'
import {
  addPupil,
  archiveFamily,
  createFamily,
  familyForNewPupil,
  guardianForEdit,
  pupilForEdit,
  reactivateFamily,
  reasonMax,
  saveFamilyFields,
  saveGuardian,
  savePupil,
} from './service.ts'
import { familyFieldValue, familyPageView, writesRecords } from './view.ts'
import { tenantToday } from '../family/service.ts'

type FormBody = Record<string, string | undefined>
type Submitted = { input: FormBody; errors: FieldErrors }

const text = { type: 'string', maxLength: 1000 } as const
const fieldsOf = (names: readonly string[], prefix = '') =>
  Object.fromEntries(names.map((name) => [prefix + name, text]))
const guardianNames = guardianFields.map((f) => f.name)
const pupilNames = pupilFields({}).map((f) => f.name)
const familyNames = ['resident', 'quotientBracket', 'paymentMode']
const csrf = { _csrf: { type: 'string', maxLength: 200 } }
const formBody = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties: { ...csrf, ...properties },
})

const twoIds = (second: string) =>
  ({
    type: 'object',
    properties: { id: recordId, [second]: recordId },
    required: ['id', second],
  }) as const

/** ?enregistre=saved|unchanged after an edit, shown once on the family's page. */
const noticeQuery = {
  type: 'object',
  properties: {
    enregistre: { type: 'string', enum: ['saved', 'unchanged', 'created', 'archived', 'reactivated'] },
  },
} as const

/**
 * The secretariat's families: the list with its search and filters, a family's page, and the
 * records staff write directly (no sas): guardians, pupils, the family's own fields, a family typed
 * at the desk, a pupil added, an archive and its undoing. Pages that only show admit every staff
 * role; forms and their POSTs only those who write records.
 */
export default async function backofficeFamilies(app: FastifyInstance) {
  const reads = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const writes = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }

  app.get<{
    Querystring: {
      q?: string
      site?: string
      etat?: FamilyState
      compte?: string
      resident?: string
      attente?: string
      page?: number
    }
  }>(
    '/admin/familles',
    {
      ...reads,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            q: { type: 'string', maxLength: 200 },
            site: { type: 'string', maxLength: 60 },
            etat: { type: 'string', enum: ['active', 'archived', 'all'] },
            compte: { type: 'string', enum: ['', 'sans'] },
            resident: { type: 'string', enum: ['', 'oui', 'non'] },
            attente: { type: 'string', enum: ['', '1'] },
            ...pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const {
        q = '',
        site = '',
        etat = 'active',
        compte = '',
        resident = '',
        attente = '',
        page = 1,
      } = request.query
      const year = await currentSchoolYear(ctx.db)
      const { total, rows } = await familyList(
        ctx.db,
        {
          terms: searchTerms(q),
          state: etat,
          site: site || null,
          noAccount: compte === 'sans',
          resident: resident ? resident === 'oui' : null,
          pending: attente === '1',
        },
        year?.id ?? 0,
        page,
      )
      const filters = { q, site, etat: etat === 'active' ? '' : etat, compte, resident, attente }
      return reply.view('backoffice/families/list', {
        title: ctx.t('families.title'),
        rows: rows.map((row) => ({
          ...row,
          name: row.lastName ? fullName({ firstName: row.firstName ?? '', lastName: row.lastName }) : '',
        })),
        filters: { ...filters, etat },
        establishments: ctx.config.establishments,
        year: year?.label ?? '',
        canCreate: writesRecords(ctx),
        page: pageOf(total, page, '/admin/familles', filters),
      })
    },
  )

  // family typed at the desk

  const renderNew = (reply: FastifyReply, ctx: SignedInContext, submitted?: Submitted) => {
    const { t, config } = ctx
    const input = submitted?.input
    const strip = (prefix: string) =>
      input &&
      Object.fromEntries(
        Object.entries(input)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      )
    const display = (name: string, value: string | null) => displayValue(name, value, t)
    const guardian = (prefix: string, mandatory: boolean) =>
      formFields(guardianFields, {
        validated: {},
        input: strip(prefix),
        mandatory: mandatory ? mandatoryFields(config.fields.guardian) : new Set(),
        t,
        display,
      })
    const g1 = guardian('g1-', true)
    const g2 = guardian('g2-', false)
    const pupil = formFields(pupilFields(config), {
      validated: { useGuardianAddress: 'true' },
      input: strip('p-'),
      mandatory: new Set(),
      t,
      display,
    })
    return reply.view('backoffice/families/new', {
      title: t('families.new.title'),
      g1,
      g2,
      pupil,
      own: familyForm(ctx, { resident: 'true', quotientBracket: null, paymentMode: null }, input),
      errors: submitted?.errors,
      labels: [
        blockLabels(g1, 'g1-', t('famille.guardian', { rank: 1 })),
        blockLabels(g2, 'g2-', t('famille.guardian', { rank: 2 })),
        blockLabels(pupil, 'p-', t('families.firstPupil')),
        familyLabels(ctx),
      ],
    })
  }

  app.get('/admin/familles/nouvelle', writes, async (request, reply) =>
    renderNew(reply, signedInContext(request)),
  )

  app.post<{ Body: FormBody }>(
    '/admin/familles/nouvelle',
    {
      ...writes,
      schema: {
        body: formBody({
          ...fieldsOf(guardianNames, 'g1-'),
          ...fieldsOf(guardianNames, 'g2-'),
          ...fieldsOf(pupilNames, 'p-'),
          ...fieldsOf(familyNames),
        }),
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const created = await createFamily(ctx, request.body)
      if (created.errors)
        return renderNew(reply.code(400), ctx, { input: request.body, errors: created.errors })
      return reply.redirect(`/admin/familles/${created.values}?enregistre=created`, 303)
    },
  )

  // the family's page

  app.get<{ Params: { id: number }; Querystring: { enregistre?: string } }>(
    '/admin/familles/:id',
    { ...reads, schema: { params: idParams, querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const year = await currentSchoolYear(ctx.db)
      const data = await familyPageData(ctx.db, request.params.id, year?.id ?? 0)
      if (!data.family) throw new NotFound()
      const view = familyPageView(ctx, data)
      const notice = request.query.enregistre
      return reply.view('backoffice/families/family', {
        title: view.name,
        ...view,
        year: year?.label ?? '',
        notice: notice ? ctx.t(`families.notice.${notice}` as 'families.notice.saved') : '',
      })
    },
  )

  // a guardian

  const renderGuardian = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    familyId: number,
    guardianId: number,
    submitted?: Submitted,
  ) => {
    const { t, config } = ctx
    const page = await guardianForEdit(ctx, familyId, guardianId)
    const fields = formFields(guardianFields, {
      validated: guardianValues(page.guardian),
      input: submitted?.input,
      mandatory: mandatoryFields(config.fields.guardian),
      t,
      display: (name, value) => displayValue(name, value, t),
    })
    return reply.view('backoffice/families/guardian', {
      title: t('famille.guardianTitle', { rank: page.guardian.rank, name: fullName(page.guardian) }),
      familyId,
      guardian: page.guardian,
      pending: page.pending,
      fields,
      errors: submitted?.errors,
    })
  }

  app.get<{ Params: { id: number; gid: number } }>(
    '/admin/familles/:id/responsables/:gid',
    { ...writes, schema: { params: twoIds('gid') } },
    async (request, reply) =>
      renderGuardian(reply, signedInContext(request), request.params.id, request.params.gid),
  )

  app.post<{ Params: { id: number; gid: number }; Body: FormBody }>(
    '/admin/familles/:id/responsables/:gid',
    { ...writes, schema: { params: twoIds('gid'), body: formBody(fieldsOf(guardianNames)) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id, gid } = request.params
      const saved = await saveGuardian(ctx, id, gid, request.body)
      if (saved.errors)
        return renderGuardian(reply.code(400), ctx, id, gid, { input: request.body, errors: saved.errors })
      return reply.redirect(`/admin/familles/${id}?enregistre=${saved.values}`, 303)
    },
  )

  // a pupil

  const pupilForm = (
    ctx: SignedInContext,
    validated: Record<string, string | null>,
    input: FormBody | undefined,
  ) => {
    const { t, config } = ctx
    const fields = formFields(pupilFields(config), {
      validated,
      input,
      mandatory: mandatoryFields(config.fields.pupil),
      t,
      display: (name, value) => displayValue(name, value, t),
    })
    const birthDate = input ? input.birthDate : validated.birthDate
    const minor = Boolean(birthDate && isMinor(birthDate, tenantToday(config)))
    // a minor must answer, whatever the YAML says
    if (minor) fields.exitAuthorization!.required = true
    return {
      fields,
      minor,
      texts: { imageRights: config.texts?.imageRights, exitAuthorization: config.texts?.exitAuthorization },
    }
  }

  const renderPupil = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    familyId: number,
    pupilId: number,
    submitted?: Submitted,
  ) => {
    const page = await pupilForEdit(ctx, familyId, pupilId)
    return reply.view('backoffice/families/pupil', {
      title: ctx.t('families.pupilTitle', { name: fullName(page.pupil) }),
      familyId,
      action: `/admin/familles/${familyId}/eleves/${pupilId}`,
      pending: page.pending,
      guardianAddress: page.guardianAddress,
      ...pupilForm(ctx, pupilValues(page.pupil), submitted?.input),
      errors: submitted?.errors,
    })
  }

  app.get<{ Params: { id: number; pid: number } }>(
    '/admin/familles/:id/eleves/:pid',
    { ...writes, schema: { params: twoIds('pid') } },
    async (request, reply) =>
      renderPupil(reply, signedInContext(request), request.params.id, request.params.pid),
  )

  app.post<{ Params: { id: number; pid: number }; Body: FormBody }>(
    '/admin/familles/:id/eleves/:pid',
    { ...writes, schema: { params: twoIds('pid'), body: formBody(fieldsOf(pupilNames)) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id, pid } = request.params
      const saved = await savePupil(ctx, id, pid, request.body)
      if (saved.errors)
        return renderPupil(reply.code(400), ctx, id, pid, { input: request.body, errors: saved.errors })
      return reply.redirect(`/admin/familles/${id}?enregistre=${saved.values}`, 303)
    },
  )

  const renderNewPupil = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    familyId: number,
    submitted?: Submitted,
  ) => {
    const page = await familyForNewPupil(ctx, familyId)
    return reply.view('backoffice/families/pupil', {
      title: ctx.t('families.newPupil.title'),
      familyId,
      action: `/admin/familles/${familyId}/eleves/nouveau`,
      guardianAddress: page.guardianAddress,
      // a child of the family: its name and address by default
      ...pupilForm(
        ctx,
        { lastName: page.guardian?.lastName ?? null, useGuardianAddress: 'true' },
        submitted?.input,
      ),
      errors: submitted?.errors,
      creating: true,
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/familles/:id/eleves/nouveau',
    { ...writes, schema: { params: idParams } },
    async (request, reply) => renderNewPupil(reply, signedInContext(request), request.params.id),
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/admin/familles/:id/eleves/nouveau',
    { ...writes, schema: { params: idParams, body: formBody(fieldsOf(pupilNames)) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const added = await addPupil(ctx, id, request.body)
      if (added.errors)
        return renderNewPupil(reply.code(400), ctx, id, { input: request.body, errors: added.errors })
      return reply.redirect(`/admin/familles/${id}?enregistre=created`, 303)
    },
  )

  // the family's own fields

  const renderFamilyFields = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    familyId: number,
    submitted?: Submitted,
  ) => {
    const year = await currentSchoolYear(ctx.db)
    const data = await familyPageData(ctx.db, familyId, year?.id ?? 0)
    const family = data.family
    if (!family || family.erasedAt) throw new NotFound()
    return reply.view('backoffice/families/fields', {
      title: ctx.t('families.fields.title'),
      familyId,
      name: data.guardians[0] ? fullName(data.guardians[0]) : '',
      own: familyForm(
        ctx,
        {
          resident: String(family.resident),
          quotientBracket: family.quotientBracket,
          paymentMode: family.paymentMode,
        },
        submitted?.input,
      ),
      errors: submitted?.errors,
      labels: familyLabels(ctx),
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/familles/:id/modifier',
    { ...writes, schema: { params: idParams } },
    async (request, reply) => renderFamilyFields(reply, signedInContext(request), request.params.id),
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/admin/familles/:id/modifier',
    { ...writes, schema: { params: idParams, body: formBody(fieldsOf(familyNames)) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const saved = await saveFamilyFields(ctx, id, request.body)
      if (saved.errors)
        return renderFamilyFields(reply.code(400), ctx, id, { input: request.body, errors: saved.errors })
      return reply.redirect(`/admin/familles/${id}?enregistre=${saved.values}`, 303)
    },
  )

  // archive and reactivate

  const renderArchive = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    familyId: number,
    submitted?: Submitted,
  ) => {
    const year = await currentSchoolYear(ctx.db)
    const data = await familyPageData(ctx.db, familyId, year?.id ?? 0)
    if (!data.family || data.family.erasedAt) throw new NotFound()
    if (data.family.archivedAt) return reply.redirect(`/admin/familles/${familyId}`, 303)
    return reply.view('backoffice/families/archive', {
      title: ctx.t('families.archive.title'),
      familyId,
      name: data.guardians[0] ? fullName(data.guardians[0]) : '',
      accounts: data.accounts.filter((a) => !a.disabled).map((a) => a.identifiant),
      reasonMax,
      input: submitted?.input ?? {},
      errors: submitted?.errors,
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/familles/:id/archiver',
    { ...writes, schema: { params: idParams } },
    async (request, reply) => renderArchive(reply, signedInContext(request), request.params.id),
  )

  app.post<{ Params: { id: number }; Body: { reason?: string } }>(
    '/admin/familles/:id/archiver',
    {
      ...writes,
      schema: { params: idParams, body: formBody({ reason: { type: 'string', maxLength: 2000 } }) },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const archived = await archiveFamily(ctx, id, request.body.reason ?? '')
      if (archived.errors)
        return renderArchive(reply.code(400), ctx, id, { input: request.body, errors: archived.errors })
      return reply.redirect(`/admin/familles/${id}?enregistre=archived`, 303)
    },
  )

  app.post<{ Params: { id: number } }>(
    '/admin/familles/:id/reactiver',
    { ...writes, schema: { params: idParams, body: formBody({}) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      await reactivateFamily(ctx, request.params.id)
      return reply.redirect(`/admin/familles/${request.params.id}?enregistre=reactivated`, 303)
    },
  )
}

/** The family's own fields as their form shows them: resident, bracket and payment mode. */
function familyForm(
  ctx: SignedInContext,
  current: { resident: string; quotientBracket: string | null; paymentMode: string | null },
  input: FormBody | undefined,
) {
  const { config } = ctx
  const shown = input
    ? {
        resident: input.resident ?? '',
        quotientBracket: input.quotientBracket ?? '',
        paymentMode: input.paymentMode ?? '',
      }
    : { ...current, quotientBracket: current.quotientBracket ?? '', paymentMode: current.paymentMode ?? '' }
  const options = (listed: { value: string; label: string }[], value: string) =>
    // a value the tenant no longer lists stays selectable
    value && !listed.some((o) => o.value === value) ? [...listed, { value, label: value }] : listed
  return {
    values: shown,
    brackets: config.quotientFamilial
      ? options(
          config.quotientFamilial.brackets.map((b) => ({ value: b.code, label: b.label })),
          shown.quotientBracket,
        )
      : undefined,
    paymentModes: config.paymentModes?.length
      ? options(
          config.paymentModes.map((m) => ({ value: m.id, label: m.label })),
          shown.paymentMode,
        )
      : undefined,
    noBracket: familyFieldValue(ctx, 'quotientBracket', null),
  }
}

function familyLabels(ctx: SignedInContext): Record<string, string> {
  return {
    resident: ctx.t('families.field.resident'),
    quotientBracket: ctx.t('families.field.quotientBracket'),
    paymentMode: ctx.t('families.field.paymentMode'),
  }
}
