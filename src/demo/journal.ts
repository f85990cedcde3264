import { randomUUID } from 'node:crypto'
import { Guardian } from '../features/family/entities.ts'
import { Pupil } from '../features/pupils/entities.ts'
import { Reenrolment } from '../features/reenrolment/entities.ts'
import { Course, SchoolYear, Teacher } from '../features/teaching/entities.ts'
import { AuditEvent } from '../platform/audit/entities.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Em } from '../platform/db/orm.ts'
import { MailStatus, OutboxMail } from '../platform/mail/entities.ts'
import { renderMail } from '../platform/mail/outbox.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'

const minute = 60_000
const day = 86_400_000

/**
 * What the admins' journal and mails show in the demo (idempotent: written once, when no demo
 * staff account has acted yet): a few weeks of the staff's work on accounts, records, courses and
 * re-enrolments, a family downloading its data, and the mails of the conservatoire in every state:
 * sent (their bodies dropped, as the worker does), one pending after a relay's temporary refusal,
 * one failed on an address with a typo. Each event says what is true of the records today (a
 * changed field's "after" is its current value), so the families' own histories stay consistent.
 */
export async function seedDemoJournal(em: Em, config: TenantConfig, now = new Date()): Promise<void> {
  const staff = await em.find(Account, {
    identifiant: { $in: ['demo-admin', 'demo-secretariat', 'demo-direction', 'demo-famille'] },
  })
  const by = new Map(staff.map((a) => [a.identifiant, a]))
  const admin = by.get('demo-admin')
  const secretariat = by.get('demo-secretariat')
  const direction = by.get('demo-direction')
  if (!admin || !secretariat || !direction) return
  if (await em.count(AuditEvent, { actor: { $in: [admin.id, secretariat.id, direction.id] } })) return

  const at = (ago: number) => new Date(now.getTime() - ago)
  const event = (
    actor: Account,
    ago: number,
    action: string,
    subject: { type: string; id: number },
    details: Record<string, unknown> = {},
  ) =>
    em.create(AuditEvent, {
      actor,
      actorName: `${actor.displayName} (${actor.identifiant})`,
      action,
      subjectType: subject.type,
      subjectId: subject.id,
      details,
      createdAt: at(ago),
    })
  const mail = (
    to: string,
    template: string,
    data: Record<string, unknown>,
    ago: number,
    state: Partial<Pick<OutboxMail, 'status' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'sentAt'>>,
  ) => {
    const rendered = renderMail(template, config.locale, config, data)
    const sent = state.status === MailStatus.sent
    return em.create(OutboxMail, {
      uuid: randomUUID(),
      recipient: to,
      subject: rendered.subject,
      // the worker drops a sent mail's bodies (they may hold a password link)
      text: sent ? '' : rendered.text,
      html: sent ? '' : rendered.html,
      template,
      status: MailStatus.pending,
      attempts: sent ? 1 : 0,
      nextAttemptAt: at(ago),
      createdAt: at(ago),
      ...state,
    })
  }
  const portal = `https://${config.hosts[0] ?? `${config.slug}.localhost`}`

  // accounts: the invitations Comptes shows, the secretariat member who left, a role changed
  const accounts = await em.find(Account, { role: { $in: ['teacher', 'family', 'secretariat'] } })
  const teacherOf = await em.find(Teacher, { account: { $ne: null } }, { orderBy: { id: 'asc' } })
  const invitedTeacher = accounts.find(
    (a) => a.role === 'teacher' && a.passwordHash === null && teacherOf.some((t) => t.account?.id === a.id),
  )
  const expiredGuardian = accounts.find((a) => a.role === 'family' && a.passwordHash === null)
  const departed = accounts.find((a) => a.role === 'secretariat' && a.disabled)
  for (const [account, ago] of [
    [invitedTeacher, 2 * day],
    [expiredGuardian, 12 * day],
  ] as const) {
    if (!account) continue
    event(
      admin,
      ago,
      'account.invited',
      { type: 'account', id: account.id },
      {
        identifiant: account.identifiant,
        role: account.role,
        email: account.email,
      },
    )
    mail(
      account.email,
      'invitation',
      {
        displayName: account.displayName,
        identifiant: account.identifiant,
        link: `${portal}/mot-de-passe/nouveau`,
      },
      ago,
      {
        status: MailStatus.sent,
        sentAt: at(ago - minute),
      },
    )
  }
  if (departed) event(admin, 34 * day, 'account.disabled', { type: 'account', id: departed.id })
  event(
    admin,
    41 * day,
    'account.roleChanged',
    { type: 'account', id: direction.id },
    {
      from: 'secretariat',
      to: 'direction',
    },
  )

  // the secretariat's records: a guardian's phone, a course's room, a pupil enrolled, a course closed
  const guardians = await em.find(Guardian, { rank: 1 }, { orderBy: { family: { id: 'asc' } }, limit: 5 })
  const fourth = guardians[3]
  if (fourth?.phoneMobile) {
    event(
      secretariat,
      5 * day + 3 * 60 * minute,
      'guardian.edited',
      { type: 'guardian', id: fourth.id },
      {
        family: fourth.family.id,
        changes: { phoneMobile: { before: '06 12 48 90 31', after: fourth.phoneMobile } },
      },
    )
  }
  const year = await em.findOne(SchoolYear, { current: true })
  const courses = year ? await em.find(Course, { schoolYear: year }, { orderBy: { id: 'asc' } }) : []
  const roomed = courses.find((c) => c.room && c.closedAt === null)
  if (roomed) {
    event(
      secretariat,
      8 * day,
      'course.updated',
      { type: 'course', id: roomed.id },
      {
        before: { room: 'Salle 3' },
        after: { room: roomed.room },
      },
    )
  }
  const closed = courses.find((c) => c.closedAt !== null)
  if (closed?.closedAt) {
    em.create(AuditEvent, {
      actor: secretariat,
      actorName: `${secretariat.displayName} (${secretariat.identifiant})`,
      action: 'course.closed',
      subjectType: 'course',
      subjectId: closed.id,
      details: { name: closed.name, enrolled: 0 },
      createdAt: closed.closedAt,
    })
  }

  // the direction's decisions on re-enrolments
  const validated = await em.find(
    Reenrolment,
    { status: 'validated' },
    { orderBy: { id: 'asc' }, limit: 3, populate: ['pupil'] },
  )
  for (const [i, row] of validated.entries()) {
    event(
      direction,
      (3 + i) * day + 90 * minute,
      'reenrolment.validated',
      { type: 'pupil', id: row.pupil.id },
      {
        reenrolment: row.id,
      },
    )
  }

  // a family took its data
  const family = by.get('demo-famille')
  const own = family && (await em.findOne(Guardian, { account: family }))
  if (family && own) {
    event(
      family,
      9 * day,
      'family.exported',
      { type: 'family', id: own.family.id },
      {
        guardians: 2,
        pupils: 2,
      },
    )
  }

  // the mails: a few sent, one waiting after a temporary refusal, one failed on a typo
  const third = guardians[2]
  const pupil = third && (await em.findOne(Pupil, { family: third.family }, { orderBy: { id: 'asc' } }))
  const document = (config.documents ?? [])[0]
  if (third?.email && pupil && document) {
    mail(
      third.email,
      'document-decided',
      {
        displayName: `${third.firstName} ${third.lastName}`,
        document: document.label,
        fileName: `${document.id}.pdf`,
        pupil: document.level === 'pupil' ? `${pupil.firstName} ${pupil.lastName}` : '',
        validated: true,
        reason: null,
        link: `${portal}/famille/pieces`,
      },
      26 * minute,
      {
        attempts: 3,
        nextAttemptAt: at(-6 * minute),
        lastError: '421 4.7.0 mx.example.fr: trop de connexions, réessayez plus tard',
      },
    )
  }
  const second = guardians[1]
  if (second) {
    const typo = `${(second.email ?? 'famille@example.fr').split('@')[0]}@exemple.fr`
    mail(
      typo,
      'change-received',
      {
        displayName: `${second.firstName} ${second.lastName}`,
        subject: `Responsable : ${second.firstName} ${second.lastName}`,
        changes: [{ label: 'Téléphone portable', before: second.phoneMobile ?? '', after: '06 48 27 19 53' }],
        link: `${portal}/famille`,
      },
      4 * day,
      {
        status: MailStatus.failed,
        attempts: 1,
        lastError: `Can't send mail - all recipients were rejected: 550 5.1.1 <${typo}>: Recipient address rejected: User unknown`,
      },
    )
  }
  const campaign = config.periods?.reenrolment
  for (const [i, guardian] of guardians.slice(3).entries()) {
    const child = await em.findOne(Pupil, { family: guardian.family }, { orderBy: { id: 'asc' } })
    if (!campaign || !guardian.email || !child) continue
    const ago = (6 + 4 * i) * day
    mail(
      guardian.email,
      'reenrolment-submitted',
      {
        displayName: `${guardian.firstName} ${guardian.lastName}`,
        pupil: `${child.firstName} ${child.lastName}`,
        schoolYear: campaign.schoolYear,
        lines: [],
        link: `${portal}/eleves/${child.id}/reinscription`,
      },
      ago,
      { status: MailStatus.sent, sentAt: at(ago - minute) },
    )
  }
  await em.flush()
}
