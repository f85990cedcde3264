import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signedInContext, tenantContext } from '../../platform/auth/context.ts'
import { Role } from '../../platform/auth/entities.ts'
import { staffRoles } from '../../platform/auth/roles.ts'
import { describePolicy } from '../../platform/auth/password-policy.ts'
import { signInPaths } from '../../platform/auth/plugin.ts'
import { attemptLimits } from '../../platform/http/attempt-limits.ts'
import { TooManyAttempts } from '../../platform/http/errors.ts'
import { SignInLimits } from '../../platform/http/sign-in-limits.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { localPath } from '../portal/service.ts'
import { oidcProblems, oidcStartPath } from './oidc-routes.ts'
import {
  authenticate,
  changePassword,
  normalizeIdentifiant,
  remindIdentifiants,
  requestReset,
  setPasswordWithToken,
  tokenAccount,
} from './service.ts'

interface Portal {
  path: string
  titleKey: MessageKey
  roles: readonly Role[]
  landing: string
}

/** The three sign-in pages families, teachers and staff know, each admitting its own roles. */
export const portals: Portal[] = [
  { path: signInPaths.family, titleKey: 'signIn.family.title', roles: ['family'], landing: '/accueil' },
  { path: signInPaths.teacher, titleKey: 'signIn.teacher.title', roles: ['teacher'], landing: '/enseignant' },
  { path: signInPaths.admin, titleKey: 'signIn.staff.title', roles: staffRoles, landing: '/admin' },
]

export function landingOf(role: Role): string {
  return portals.find((p) => p.roles.includes(role))!.landing
}

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const
const form = (properties: Record<string, unknown>) => ({
  body: { type: 'object', properties: { _csrf: text(200), ...properties } },
})

type Body<T extends string> = Partial<Record<T, string>>

const fifteenMinutes = 15 * 60_000

export default async function accounts(app: FastifyInstance) {
  const tenantOnly = { site: 'tenant' }
  const byIdentifiant = (request: FastifyRequest) =>
    normalizeIdentifiant((request.body as Body<'identifiant'> | undefined)?.identifiant ?? '')
  const signInLimits = new SignInLimits(app.limiter)

  for (const portal of portals) {
    // staff may also (or only) sign in through the tenant's identity provider
    const staffSignIn = (request: FastifyRequest) =>
      portal.path === signInPaths.admin ? tenantContext(request).config.staffSignIn : undefined
    const render = (request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown> = {}) => {
      const retour = localPath((request.query as { retour?: string }).retour)
      const oidc = staffSignIn(request)?.oidc
      return reply.view('accounts/sign-in', {
        title: tenantContext(request).t(portal.titleKey),
        portal,
        establishments: tenantContext(request).config.establishments,
        retour,
        passwordForm: staffSignIn(request)?.password !== false,
        oidc: oidc && {
          label: oidc.label,
          href: retour === '/' ? oidcStartPath : `${oidcStartPath}?retour=${encodeURIComponent(retour)}`,
        },
        ...values,
      })
    }

    app.get<{ Querystring: { site?: string; retour?: string; fait?: string; oidc?: string } }>(
      portal.path,
      {
        constraints: tenantOnly,
        schema: {
          querystring: {
            type: 'object',
            properties: { site: text(40), retour: text(2000), fait: text(20), oidc: text(20) },
          },
        },
      },
      async (request, reply) => {
        if (request.account && portal.roles.includes(request.account.role)) {
          return reply.redirect(landingOf(request.account.role), 303)
        }
        const oidc = staffSignIn(request)?.oidc
        const code = request.query.oidc
        const problem =
          code && Object.hasOwn(oidcProblems, code)
            ? oidcProblems[code as keyof typeof oidcProblems]
            : undefined
        return render(request, reply, {
          site: request.query.site,
          signedOut: request.query.fait === 'deconnexion',
          oidcProblem: oidc && problem ? tenantContext(request).t(problem, { label: oidc.label }) : undefined,
        })
      },
    )

    app.post<{ Body: Body<'site' | 'identifiant' | 'password' | 'retour'> }>(
      portal.path,
      {
        constraints: tenantOnly,
        schema: form({ site: text(40), identifiant: text(100), password: text(1024), retour: text(2000) }),
      },
      async (request, reply) => {
        const { em, config, t, tenant } = tenantContext(request)
        const { site = '', identifiant = '', password = '' } = request.body
        const retour = localPath(request.body.retour)
        // the conservatoire's staff sign in through its identity provider only
        if (staffSignIn(request)?.password === false) {
          return render(request, reply.code(403), { passwordOff: true })
        }
        const errors: FieldErrors = {}
        const establishments = config.establishments
        if (establishments.length > 1 && !establishments.some((e) => e.code === site)) {
          errors.site = t('form.siteRequired')
        }
        if (!identifiant.trim()) errors.identifiant = t('form.required')
        if (!password) errors.password = t('form.required')
        if (refusals(errors)) return render(request, reply.code(400), { errors, site, identifiant, retour })
        const attempt = {
          tenant: tenant.slug,
          identifiant: normalizeIdentifiant(identifiant),
          address: request.ip,
        }
        const refused = await signInLimits.admit(attempt)
        if (refused) {
          reply.header('retry-after', refused.retryAfterSeconds)
          throw new TooManyAttempts()
        }
        const account = await authenticate(em, identifiant, password, portal.roles)
        if (!account) {
          await signInLimits.failed(attempt)
          return render(request, reply.code(401), { failed: true, site, identifiant, retour })
        }
        await signInLimits.succeeded(attempt)
        // the site is kept with the session: the portal shows its courses and address first
        await app.signIn(request, reply, account, establishments.length > 1 ? site : undefined)
        return reply.redirect(retour !== '/' ? retour : portal.landing, 303)
      },
    )
  }

  app.post('/deconnexion', { constraints: tenantOnly, schema: form({}) }, async (request, reply) => {
    const role = request.account?.role
    await app.signOut(request, reply)
    // the sign-in page says the session is over ("Vous êtes déconnecté.")
    return reply.redirect(role ? `${signInPaths[role]}?fait=deconnexion` : '/', 303)
  })

  const lostPage = (request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown> = {}) =>
    reply.view('accounts/lost-password', { title: tenantContext(request).t('lost.title'), ...values })

  app.get('/mot-de-passe-perdu', { constraints: tenantOnly }, async (request, reply) =>
    lostPage(request, reply),
  )

  app.post<{ Body: Body<'identifiant' | 'email'> }>(
    '/mot-de-passe-perdu',
    {
      constraints: tenantOnly,
      schema: form({ identifiant: text(100), email: text(254) }),
      preHandler: attemptLimits(app, 'lost-password', [
        { max: 10, timeWindowMs: fifteenMinutes },
        { max: 5, timeWindowMs: 60 * 60_000, key: byIdentifiant },
      ]),
    },
    async (request, reply) => {
      const ctx = tenantContext(request)
      const { identifiant = '', email = '' } = request.body
      const errors: FieldErrors = {}
      if (!identifiant.trim()) errors.identifiant = ctx.t('form.required')
      if (!email.trim()) errors.email = ctx.t('form.required')
      else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) errors.email = ctx.t('lost.emailInvalid')
      if (refusals(errors)) return lostPage(request, reply.code(400), { errors, identifiant, email })
      await requestReset(ctx.em, ctx, identifiant, email)
      return lostPage(request, reply, { sent: true })
    },
  )

  const forgottenPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    values: Record<string, unknown> = {},
  ) =>
    reply.view('accounts/forgotten-identifiant', {
      title: tenantContext(request).t('forgotten.title'),
      ...values,
    })

  app.get('/identifiant-oublie', { constraints: tenantOnly }, async (request, reply) =>
    forgottenPage(request, reply),
  )

  // the same limits as "Mot de passe perdu", the address typed counted where the identifiant is there
  app.post<{ Body: Body<'email'> }>(
    '/identifiant-oublie',
    {
      constraints: tenantOnly,
      schema: form({ email: text(254) }),
      preHandler: attemptLimits(app, 'forgotten-identifiant', [
        { max: 10, timeWindowMs: fifteenMinutes },
        {
          max: 5,
          timeWindowMs: 60 * 60_000,
          key: (request) => `email:${((request.body as Body<'email'>).email ?? '').trim().toLowerCase()}`,
        },
      ]),
    },
    async (request, reply) => {
      const ctx = tenantContext(request)
      const email = request.body.email ?? ''
      const errors: FieldErrors = {}
      if (!email.trim()) errors.email = ctx.t('form.required')
      else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) errors.email = ctx.t('lost.emailInvalid')
      if (refusals(errors)) return forgottenPage(request, reply.code(400), { errors, email })
      await remindIdentifiants(ctx.em, ctx, email)
      return forgottenPage(request, reply, { sent: true })
    },
  )

  const newPasswordPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    values: Record<string, unknown> = {},
  ) => {
    const { em, config, t } = tenantContext(request)
    const account = await tokenAccount(em, token)
    if (!account) {
      return reply.code(410).view('accounts/link-invalid', { title: t('newPassword.invalidTitle') })
    }
    return reply.view('accounts/new-password', {
      title: t('newPassword.title'),
      identifiant: account.identifiant,
      token,
      rule: describePolicy(config.passwordPolicy, t),
      ...values,
    })
  }

  app.get<{ Querystring: { jeton?: string } }>(
    '/mot-de-passe/nouveau',
    {
      constraints: tenantOnly,
      schema: { querystring: { type: 'object', properties: { jeton: text(100) } } },
    },
    async (request, reply) => newPasswordPage(request, reply, request.query.jeton ?? ''),
  )

  app.post<{ Body: Body<'jeton' | 'password' | 'confirmation'> }>(
    '/mot-de-passe/nouveau',
    {
      constraints: tenantOnly,
      schema: form({ jeton: text(100), password: text(1024), confirmation: text(1024) }),
      preHandler: attemptLimits(app, 'new-password', [
        { max: 20, timeWindowMs: fifteenMinutes },
        // an invitation or reset link is someone's identity here; hashed, since counters may live in Redis
        {
          max: 10,
          timeWindowMs: fifteenMinutes,
          key: (request) =>
            `link:${createHash('sha256')
              .update((request.body as Body<'jeton'>).jeton ?? '')
              .digest('base64url')}`,
        },
      ]),
    },
    async (request, reply) => {
      const ctx = tenantContext(request)
      const { jeton = '', password = '', confirmation = '' } = request.body
      const set = await setPasswordWithToken(ctx.em, ctx, jeton, password, confirmation)
      if (set.errors?.token)
        return reply.code(410).view('accounts/link-invalid', { title: ctx.t('newPassword.invalidTitle') })
      if (set.errors) return newPasswordPage(request, reply.code(400), jeton, { errors: set.errors })
      return reply.view('accounts/new-password-done', {
        title: ctx.t('newPassword.title'),
        signInPath: signInPaths[set.values!.role],
      })
    },
  )

  const changePage = (request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown> = {}) =>
    reply.view('accounts/change-password', {
      title: tenantContext(request).t('changePassword.title'),
      rule: describePolicy(tenantContext(request).config.passwordPolicy, tenantContext(request).t),
      ...values,
    })

  const signedIn = app.requireRole(...Object.values(Role))

  app.get('/mot-de-passe', { constraints: tenantOnly, preHandler: signedIn }, async (request, reply) =>
    changePage(request, reply),
  )

  app.post<{ Body: Body<'current' | 'password' | 'confirmation'> }>(
    '/mot-de-passe',
    {
      constraints: tenantOnly,
      schema: form({ current: text(1024), password: text(1024), confirmation: text(1024) }),
      preHandler: [
        signedIn,
        attemptLimits(app, 'change-password', [{ max: 20, timeWindowMs: fifteenMinutes }]),
      ],
    },
    async (request, reply) => {
      const errors = await changePassword(signedInContext(request), app.sessionId(request), {
        current: request.body.current ?? '',
        password: request.body.password ?? '',
        confirmation: request.body.confirmation ?? '',
      })
      if (errors) return changePage(request, reply.code(400), { errors })
      return changePage(request, reply, { done: true })
    },
  )
}
