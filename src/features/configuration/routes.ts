import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { problemText } from '../../platform/tenancy/config-problems.ts'
import type { ConfigProblem } from '../../platform/tenancy/tenant-config.ts'
import { previewFamilies, previewPages, startPreview } from './preview.ts'
import {
  checkSource,
  createDraft,
  discardDraft,
  draftOf,
  lineDiff,
  publishDraft,
  recentDrafts,
  servedVersion,
  versionList,
  versionOf,
  workingDraft,
} from './service.ts'

const notices = {
  publiee: 'config.done.published',
  abandonne: 'config.done.discarded',
} as const
type Notice = keyof typeof notices

const noticeQuery = {
  type: 'object',
  properties: { fait: { type: 'string', enum: Object.keys(notices) } },
} as const

const versionParams = { type: 'object', properties: { n: recordId }, required: ['n'] } as const

/** The forms that make drafts, in the order the overview shows them (built in ./forms.ts). */
const forms = ['periodes', 'textes', 'pieces', 'paiement', 'champs', 'etapes'] as const

/** "ligne 42 : …" — a problem as the editor lists it, in the page's language. */
function problemLines(ctx: SignedInContext, problems: ConfigProblem[]) {
  return problems.map((problem) => ({
    line: problem.line,
    path: problem.path,
    message: problemText(problem, ctx.t),
  }))
}

/**
 * The admins' configuration: the overview, the whole YAML in an editor, the draft page (the change as
 * a diff, the family pages previewed with it, publishing with a comment), the versions with their
 * history, comparison and restoration. Admins only; nothing invalid is ever published.
 */
export default async function configuration(app: FastifyInstance) {
  const admin = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.admin) }
  // a whole YAML text: longer than the service's limit, so that a huge paste gets its message, not a 400 page
  const sourcePosted = {
    ...admin,
    bodyLimit: 2 * 1024 * 1024,
    schema: {
      body: {
        type: 'object',
        properties: {
          _csrf: { type: 'string', maxLength: 200 },
          source: { type: 'string', maxLength: 1_000_000 },
        },
      },
    },
  }

  app.get<{ Querystring: { fait?: Notice } }>(
    '/admin/configuration',
    { ...admin, schema: { querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const [served, drafts, working] = await Promise.all([
        servedVersion(ctx),
        recentDrafts(ctx),
        workingDraft(ctx),
      ])
      if (working) reply.locals = { ...reply.locals, working: { id: working.id } }
      return reply.view('configuration/overview', {
        title: ctx.t('config.title'),
        notice: request.query.fait ? ctx.t(notices[request.query.fait]) : undefined,
        served,
        drafts,
        forms,
      })
    },
  )

  const renderEditor = (
    request: FastifyRequest,
    reply: FastifyReply,
    source: string,
    problems: ConfigProblem[] = [],
    served = false,
  ) => {
    const ctx = signedInContext(request)
    return reply.status(problems.length > 0 ? 400 : 200).view('configuration/editor', {
      title: ctx.t('config.editor.title'),
      source,
      problems: problemLines(ctx, problems),
      // the text shown is the served version's, not a draft's nor what was just typed
      servedVersion: served ? ctx.tenant.configVersion : undefined,
    })
  }

  app.get<{ Querystring: { depuis?: number } }>(
    '/admin/configuration/yaml',
    { ...admin, schema: { querystring: { type: 'object', properties: { depuis: recordId } } } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const from = request.query.depuis
        ? await draftOf(ctx, request.query.depuis)
        : ((await workingDraft(ctx)) ?? (await servedVersion(ctx)))
      if (!from) throw new NotFound()
      const isDraft = 'baseNumber' in from
      if (isDraft && from.authorId === ctx.account.id)
        reply.locals = { ...reply.locals, working: { id: from.id } }
      return renderEditor(request, reply, from.source, [], !isDraft)
    },
  )

  app.post<{ Body: { source?: string } }>(
    '/admin/configuration/yaml',
    sourcePosted,
    async (request, reply) => {
      const ctx = signedInContext(request)
      const source = request.body.source ?? ''
      const result = await createDraft(ctx, source, 'yaml')
      if ('problems' in result) return renderEditor(request, reply, source, result.problems)
      return reply.redirect(`/admin/configuration/brouillons/${result.id}`, 303)
    },
  )

  // the editor's live check (templates/assets/yaml-editor.js): the submit's checks, nothing kept
  app.post<{ Body: { source?: string } }>(
    '/admin/configuration/yaml/verifier',
    sourcePosted,
    async (request) => {
      const ctx = signedInContext(request)
      const { problems } = await checkSource(ctx, request.body.source ?? '')
      return {
        ok: problems.length === 0,
        summary: ctx.t(problems.length === 0 ? 'config.editor.live.ok' : 'config.editor.live.problems', {
          n: problems.length,
        }),
        problems: problemLines(ctx, problems).map((p) =>
          p.line ? ctx.t('config.problemAtLine', { line: p.line, message: p.message }) : p.message,
        ),
      }
    },
  )

  const renderDraft = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    refusal?: { problems?: ConfigProblem[]; conflict?: number; comment?: string; commentError?: string },
  ) => {
    const ctx = signedInContext(request)
    const draft = await draftOf(ctx, id)
    if (!draft) throw new NotFound()
    const served = await servedVersion(ctx)
    const [pages, families] = await Promise.all([
      previewPages(ctx, served?.source ?? '', draft.source),
      previewFamilies(ctx),
    ])
    return reply.status(refusal ? 400 : 200).view('configuration/draft', {
      title: ctx.t('config.draft.title', { id: draft.id }),
      draft,
      served,
      outdated: draft.baseNumber !== (ctx.tenant.configVersion ?? 0),
      diff: lineDiff(served?.source ?? '', draft.source),
      pages,
      families,
      problems: problemLines(ctx, refusal?.problems ?? []),
      conflict: refusal?.conflict,
      comment: refusal?.comment ?? '',
      errors: refusal?.commentError ? { comment: refusal.commentError } : undefined,
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/configuration/brouillons/:id',
    { ...admin, schema: { params: idParams } },
    async (request, reply) => renderDraft(request, reply, request.params.id),
  )

  app.post<{ Params: { id: number }; Body: { comment?: string } }>(
    '/admin/configuration/brouillons/:id/publier',
    {
      ...admin,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            comment: { type: 'string', maxLength: 5000 },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const comment = (request.body.comment ?? '').trim()
      const { id } = request.params
      if (comment.length < 3 || comment.length > 500) {
        const commentError = ctx.t(
          comment.length < 3 ? 'config.publish.commentRequired' : 'config.publish.commentTooLong',
        )
        return renderDraft(request, reply, id, { comment, commentError })
      }
      const result = await publishDraft(ctx, app.registry, id, comment)
      if ('missing' in result) throw new NotFound()
      if ('problems' in result) return renderDraft(request, reply, id, { problems: result.problems, comment })
      if ('conflict' in result) return renderDraft(request, reply, id, { conflict: result.conflict, comment })
      return reply.redirect(`/admin/configuration/versions?fait=publiee`, 303)
    },
  )

  app.post<{ Params: { id: number } }>(
    '/admin/configuration/brouillons/:id/abandonner',
    {
      ...admin,
      schema: {
        params: idParams,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      if (!(await discardDraft(signedInContext(request), request.params.id))) throw new NotFound()
      return reply.redirect('/admin/configuration?fait=abandonne', 303)
    },
  )

  app.get<{ Params: { id: number }; Querystring: { page?: string; famille?: number } }>(
    '/admin/configuration/brouillons/:id/apercu',
    {
      ...admin,
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: { page: { type: 'string', maxLength: 200 }, famille: recordId },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const draft = await draftOf(ctx, request.params.id)
      if (!draft) throw new NotFound()
      const target = await startPreview(ctx, reply, draft.id, request.query.famille, request.query.page)
      return reply.redirect(target, 303)
    },
  )

  app.get<{ Querystring: { fait?: Notice } }>(
    '/admin/configuration/versions',
    { ...admin, schema: { querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return reply.view('configuration/versions', {
        title: ctx.t('config.versions.title'),
        notice: request.query.fait ? ctx.t(notices[request.query.fait]) : undefined,
        versions: await versionList(ctx),
        served: ctx.tenant.configVersion,
      })
    },
  )

  app.get<{ Querystring: { de?: number; a?: number } }>(
    '/admin/configuration/versions/comparer',
    {
      ...admin,
      schema: { querystring: { type: 'object', properties: { de: recordId, a: recordId } } },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const versions = await versionList(ctx)
      const from = request.query.de ?? versions[1]?.number ?? versions[0]?.number
      const to = request.query.a ?? versions[0]?.number
      const [before, after] = await Promise.all([
        from ? versionOf(ctx, from) : null,
        to ? versionOf(ctx, to) : null,
      ])
      if (!before || !after) throw new NotFound()
      return reply.view('configuration/compare', {
        title: ctx.t('config.compare.title', { from: before.number, to: after.number }),
        versions,
        before,
        after,
        diff: lineDiff(before.source, after.source),
      })
    },
  )

  /** A version's page: its text, its diff with the one before, and Restaurer (or why not). */
  const renderVersion = async (
    request: FastifyRequest,
    reply: FastifyReply,
    n: number,
    problems?: ConfigProblem[],
  ) => {
    const ctx = signedInContext(request)
    const version = await versionOf(ctx, n)
    if (!version) throw new NotFound()
    const previous = version.number > 1 ? await versionOf(ctx, version.number - 1) : null
    return reply.status(problems ? 400 : 200).view('configuration/version', {
      title: ctx.t('config.version.title', { n: version.number }),
      version,
      served: ctx.tenant.configVersion,
      diff: previous ? lineDiff(previous.source, version.source) : undefined,
      previous,
      problems: problemLines(ctx, problems ?? []),
    })
  }

  app.get<{ Params: { n: number } }>(
    '/admin/configuration/versions/:n',
    { ...admin, schema: { params: versionParams } },
    async (request, reply) => renderVersion(request, reply, request.params.n),
  )

  app.post<{ Params: { n: number } }>(
    '/admin/configuration/versions/:n/restaurer',
    {
      ...admin,
      schema: {
        params: versionParams,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const version = await versionOf(ctx, request.params.n)
      if (!version) throw new NotFound()
      const result = await createDraft(ctx, version.source, 'restore', version.number)
      if ('problems' in result) return renderVersion(request, reply, version.number, result.problems)
      return reply.redirect(`/admin/configuration/brouillons/${result.id}`, 303)
    },
  )
}
