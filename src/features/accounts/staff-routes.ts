import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { Role } from '../../platform/auth/entities.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { fullName } from '../family/service.ts'
import { teacherName } from '../teaching/service.ts'
import { freeIdentifiant } from './service.ts'
import {
  type AccountListRow,
  type AccountPageRow,
  type AccountState,
  accountList,
  accountPage,
  accountStates,
  changeRole,
  guardianToInvite,
  type InviteInput,
  invitableRoles,
  inviteFromStaff,
  newTeacher,
  resendInvitation,
  sendPasswordLink,
  setDisabled,
  staffRoleChoices,
  teacherToInvite,
  teachersWithoutAccount,
} from './staff-service.ts'

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const

/** What an action of the account's page says once done (`?fait=`). */
const notices = {
  invitation: 'accounts.done.invited',
  renvoi: 'accounts.done.resent',
  lien: 'accounts.done.passwordLink',
  desactive: 'accounts.done.disabled',
  reactive: 'accounts.done.enabled',
  role: 'accounts.done.role',
} as const
type Notice = keyof typeof notices

/** Whom an account belongs to, as the list and the page name them. */
function ownerOf(
  row: Pick<
    AccountListRow,
    | 'familyId'
    | 'guardianRank'
    | 'guardianFirstName'
    | 'guardianLastName'
    | 'teacherFirstName'
    | 'teacherLastName'
  >,
) {
  if (row.familyId !== null && row.guardianFirstName !== null) {
    return {
      kind: 'guardian',
      name: fullName({ firstName: row.guardianFirstName, lastName: row.guardianLastName ?? '' }),
      rank: row.guardianRank,
      href: `/admin/familles/${row.familyId}`,
    }
  }
  const teacher = teacherName(row)
  return teacher ? { kind: 'teacher', name: teacher } : undefined
}

/**
 * The admins' Comptes: every account of the conservatoire with its state, an account's page with
 * its actions (invitation sent again, password link, disable or enable, staff role), and the
 * invitation of a teacher, a staff member or a family's guardian. Admins only.
 */
export default async function accountsBackOffice(app: FastifyInstance) {
  const adminOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.admin) }

  app.get<{ Querystring: { role?: Role; etat?: AccountState; q?: string; page?: number } }>(
    '/admin/comptes',
    {
      ...adminOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            role: { type: 'string', enum: Object.values(Role) },
            etat: { type: 'string', enum: accountStates },
            q: text(100),
            ...pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { role, etat, q = '', page = 1 } = request.query
      const { total, rows } = await accountList(
        ctx.db,
        { role: role ?? null, state: etat ?? null, query: q },
        page,
      )
      return reply.view('accounts/staff-list', {
        title: ctx.t('accounts.list.title'),
        items: rows.map((row) => ({ ...row, owner: ownerOf(row) })),
        filters: { role: role ?? '', etat: etat ?? '', q },
        roles: Object.values(Role),
        states: accountStates,
        page: pageOf(total, page, '/admin/comptes', { role, etat, q }),
      })
    },
  )

  const invitePage = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    input: Partial<InviteInput>,
    errors?: FieldErrors,
  ) => {
    const guardian = input.guardian !== undefined ? await guardianToInvite(ctx.db, input.guardian) : undefined
    return reply.view('accounts/staff-invite', {
      title: ctx.t('accounts.invite.title'),
      input,
      errors,
      guardian: guardian && { ...guardian, name: fullName(guardian) },
      roles: invitableRoles,
      teachers: (await teachersWithoutAccount(ctx.db)).map((t) => ({
        id: t.id,
        name: `${t.lastName} ${t.firstName}`,
      })),
      newTeacher,
    })
  }

  app.get<{ Querystring: { responsable?: number; enseignant?: number; role?: string } }>(
    '/admin/comptes/nouveau',
    {
      ...adminOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: { responsable: recordId, enseignant: recordId, role: text(20) },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { responsable, enseignant, role = '' } = request.query
      // a person who already has an account is shown it rather than a second invitation
      if (responsable !== undefined) {
        const guardian = await guardianToInvite(ctx.db, responsable)
        if (guardian.accountId !== null) return reply.redirect(`/admin/comptes/${guardian.accountId}`, 303)
        const person = { firstName: guardian.firstName, lastName: guardian.lastName }
        return invitePage(reply, ctx, {
          ...person,
          guardian: guardian.id,
          email: guardian.email ?? '',
          identifiant: await freeIdentifiant(ctx.em, person),
        })
      }
      if (enseignant !== undefined) {
        const teacher = await teacherToInvite(ctx.db, enseignant)
        if (teacher.accountId !== null) return reply.redirect(`/admin/comptes/${teacher.accountId}`, 303)
        return invitePage(reply, ctx, {
          role: Role.teacher,
          teacher: String(teacher.id),
          firstName: teacher.firstName,
          lastName: teacher.lastName,
          email: teacher.email ?? '',
          identifiant: await freeIdentifiant(ctx.em, teacher),
        })
      }
      return invitePage(reply, ctx, { role, teacher: newTeacher })
    },
  )

  app.post<{
    Body: Partial<Record<'role' | 'firstName' | 'lastName' | 'email' | 'identifiant' | 'teacher', string>> & {
      guardian?: number
    }
  }>(
    '/admin/comptes/nouveau',
    {
      ...adminOnly,
      schema: {
        body: {
          type: 'object',
          properties: {
            _csrf: text(200),
            role: text(20),
            firstName: text(100),
            lastName: text(100),
            email: text(254),
            identifiant: text(100),
            teacher: text(20),
            guardian: recordId,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const body = request.body
      const input: InviteInput = {
        role: body.role ?? '',
        firstName: body.firstName ?? '',
        lastName: body.lastName ?? '',
        email: body.email ?? '',
        identifiant: body.identifiant ?? '',
        teacher: body.teacher ?? newTeacher,
        guardian: body.guardian,
      }
      const invited = await inviteFromStaff(ctx, input)
      if (invited.errors) return invitePage(reply.code(400), ctx, input, invited.errors)
      return reply.redirect(`/admin/comptes/${invited.values!.id}?fait=invitation`, 303)
    },
  )

  const accountView = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    refused?: { errors: FieldErrors; role?: string },
  ) => {
    const ctx = signedInContext(request)
    const { row, year } = await accountPage(ctx.db, id)
    const fait = (request.query as { fait?: Notice }).fait
    const establishments = new Map(ctx.config.establishments.map((e) => [e.code, e.name]))
    return reply.view('accounts/staff-account', {
      title: ctx.t('accounts.page.title', { name: row.displayName }),
      row: row as AccountPageRow,
      owner: ownerOf(row),
      invitation: row.invitation && {
        ...row.invitation,
        status: row.invitation.usedAt
          ? 'used'
          : Date.parse(row.invitation.expiresAt) > Date.now()
            ? 'live'
            : 'expired',
      },
      year,
      courses: row.courses.map((c) => ({
        ...c,
        site: establishments.size > 1 ? (establishments.get(c.establishment) ?? c.establishment) : '',
      })),
      history: row.history.map((e) => ({
        ...e,
        label: ctx.t(`accounts.audit.${e.action.replace(/^account\./, '')}` as never),
      })),
      self: row.id === ctx.account.id,
      staffAccount: staffRoleChoices.includes(row.role),
      staffRoles: staffRoleChoices,
      notice:
        fait && !refused ? ctx.t(notices[fait], { email: row.email, identifiant: row.identifiant }) : '',
      errors: refused?.errors,
      chosenRole: refused?.role ?? row.role,
    })
  }

  app.get<{ Params: { id: number }; Querystring: { fait?: Notice } }>(
    '/admin/comptes/:id',
    {
      ...adminOnly,
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { fait: { type: 'string', enum: Object.keys(notices) } } },
      },
    },
    async (request, reply) => accountView(request, reply, request.params.id),
  )

  /** One button of the account's page: done, back to the page saying so; refused, the page again (400). */
  const action = (
    path: string,
    done: Notice,
    act: (ctx: SignedInContext, id: number, body: { role?: string }) => Promise<FieldErrors | undefined>,
  ) =>
    app.post<{ Params: { id: number }; Body: { role?: string } }>(
      `/admin/comptes/:id/${path}`,
      {
        ...adminOnly,
        schema: {
          params: idParams,
          body: { type: 'object', properties: { _csrf: text(200), role: text(20) } },
        },
      },
      async (request, reply) => {
        const id = request.params.id
        const errors = await act(signedInContext(request), id, request.body)
        if (errors) return accountView(request, reply.code(400), id, { errors, role: request.body.role })
        return reply.redirect(`/admin/comptes/${id}?fait=${done}`, 303)
      },
    )

  action('invitation', 'renvoi', (ctx, id) => resendInvitation(ctx, id))
  action('lien-mot-de-passe', 'lien', (ctx, id) => sendPasswordLink(ctx, id))
  action('desactiver', 'desactive', (ctx, id) => setDisabled(ctx, id, true))
  action('reactiver', 'reactive', (ctx, id) => setDisabled(ctx, id, false))
  action('role', 'role', (ctx, id, body) => changeRole(ctx, id, body.role ?? ''))
}
