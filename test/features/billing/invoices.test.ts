import t from 'tap'
import { Invoice, InvoiceLine, Payment } from '../../../src/features/billing/entities.ts'
import {
  balanceOf,
  creditNote,
  insertDraftInvoices,
  issueInvoices,
  recordPayment,
  updateDraft,
} from '../../../src/features/billing/invoices.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { billingSetUp, cotisation } from '../../helpers/billing.ts'

const refused = { name: 'BillingRefused' }
const forbidden = { statusCode: 403, name: 'Error' }
const autumn = new Date('2026-10-15T10:00:00Z')

t.test(
  'issuing numbers invoices in one sequence with no gap and no duplicate, even 20 at once',
  async (t) => {
    const { staff, mine, draft, em, contextOf } = await billingSetUp(t)
    const ids = await Promise.all(
      Array.from({ length: 20 }, () => draft(cotisation(mine.family.id, mine.pupil.id))),
    )
    // each issuer its own transaction on its own EntityManager, as 20 requests would
    const issued = await Promise.all(
      ids.map(async (id) => {
        const ctx = await contextOf('secretariat', `secretariat-${id}`)
        return (await issueInvoices(ctx, [id], autumn))[0]!
      }),
    )
    const numbers = issued.map((i) => i.number).sort()
    t.same(
      numbers,
      Array.from({ length: 20 }, (_, i) => `F2026-${String(i + 1).padStart(6, '0')}`),
      'F2026-000001 … F2026-000020, each once',
    )
    const rows = await em().find(Invoice, { id: { $in: ids } })
    t.ok(
      rows.every((r) => r.state === 'issued' && r.issuedAt),
      'all issued',
    )
    t.equal(await em().count(AuditEvent, { action: 'invoice.issue' }), 20, 'each issue audited')

    // a batch refused halfway gives its numbers back: the next invoice follows without a gap
    const fresh = await draft(cotisation(mine.family.id, mine.pupil.id))
    await t.rejects(issueInvoices(staff, [fresh, ids[0]!], autumn), refused)
    t.same(await issueInvoices(staff, [fresh], autumn), [{ id: fresh, number: 'F2026-000021' }])
    // a new calendar year starts its own sequence
    const january = await draft(cotisation(mine.family.id, mine.pupil.id))
    t.same(await issueInvoices(staff, [january], new Date('2027-01-04T09:00:00Z')), [
      { id: january, number: 'F2027-000001' },
    ])
  },
)

t.test(
  'drafts written in one batch keep their lines and schedule in order; one bad draft writes none',
  async (t) => {
    const { staff, mine, other, em } = await billingSetUp(t)
    const mineDraft = cotisation(mine.family.id, mine.pupil.id)
    const otherDraft = { ...cotisation(other.family.id, other.pupil.id), paymentMode: null }
    const ids = await em().transactional((tx) => insertDraftInvoices(tx, [mineDraft, otherDraft]))
    const drafts = await em().find(
      Invoice,
      { id: { $in: ids } },
      { populate: ['lines', 'instalments'], orderBy: { id: 'asc' } },
    )
    t.same(
      drafts.map((d) => [d.id, d.family.id, d.state, d.number, d.paymentMode, d.total]),
      [
        [ids[0], mine.family.id, 'draft', null, 'prelevement', 56580],
        [ids[1], other.family.id, 'draft', null, null, 56580],
      ],
    )
    t.same(
      drafts[0]!.lines
        .getItems()
        .map((l) => [l.position, l.pupil?.id ?? null, l.label, l.detail, l.amount, l.kind]),
      [
        [0, mine.pupil.id, 'Cursus complet', 'Cursus complet — Q3', 61200, 'tuition'],
        [1, null, 'Adhésion', null, 1500, 'fee'],
        [2, mine.pupil.id, 'Réduction deuxième enfant', null, -6120, 'reduction'],
      ],
    )
    t.same(
      drafts[1]!.instalments.getItems().map((i) => [String(i.dueOn).slice(0, 10), i.amount]),
      otherDraft.instalments.map((i) => [i.dueOn, i.amount]),
    )

    const wrong = { ...mineDraft, instalments: [{ dueOn: '2026-11-05', amount: 100 }] }
    await t.rejects(
      em().transactional((tx) => insertDraftInvoices(tx, [mineDraft, wrong])),
      refused,
    )
    t.equal(await em().count(Invoice, {}), 2, 'nothing written of the refused batch')

    const issued = await issueInvoices(staff, ids, autumn)
    const events = await em().find(AuditEvent, { action: 'invoice.issue' }, { orderBy: { subjectId: 'asc' } })
    t.same(
      events.map((e) => [e.subjectType, e.subjectId, e.details, e.actorName]),
      issued.map((i) => [
        'invoice',
        i.id,
        { number: i.number, total: 56580 },
        'Camille Martin (compte-secretariat)',
      ]),
      'each issue audited with its number and total, by the staff member',
    )
  },
)

t.test('an issued invoice never changes; a draft does', async (t) => {
  const { staff, mine, draft, em } = await billingSetUp(t)
  const id = await draft(cotisation(mine.family.id, mine.pupil.id))
  const { familyId: _, ...changed } = cotisation(mine.family.id, mine.pupil.id)
  changed.lines = [{ label: 'Éveil musical', amount: 18000, kind: 'tuition' }]
  changed.instalments = [{ dueOn: '2026-11-05', amount: 18000 }]
  const replaced = await updateDraft(staff, id, changed)
  t.equal(replaced.total, 18000, 'a draft is redone')
  await issueInvoices(staff, [replaced.id], autumn)
  await t.rejects(updateDraft(staff, replaced.id, changed), refused, 'an issued invoice is refused')
  await t.rejects(issueInvoices(staff, [replaced.id], autumn), refused, 'and is never numbered twice')
  const row = await em().findOneOrFail(Invoice, replaced.id, { populate: ['lines'] })
  t.same([row.number, row.total, row.lines.length], ['F2026-000001', 18000, 1])
})

t.test('drafts are refused when their amounts do not add up', async (t) => {
  const { mine, draft } = await billingSetUp(t)
  const wrong = cotisation(mine.family.id, mine.pupil.id)
  wrong.instalments[0]!.amount += 1
  await t.rejects(draft(wrong), refused, 'a schedule that is not the total')
  const fractional = cotisation(mine.family.id, mine.pupil.id)
  fractional.lines[0]!.amount = 10.5
  await t.rejects(draft(fractional), refused, 'amounts in whole cents only')
})

t.test('a credit note corrects an issued invoice, numbered in its own sequence', async (t) => {
  const { staff, mine, draft, em } = await billingSetUp(t)
  const id = await draft(cotisation(mine.family.id, mine.pupil.id))
  await t.rejects(creditNote(staff, id, 'full', 'Erreur'), refused, 'a draft is not credited')
  await issueInvoices(staff, [id], autumn)
  const note = await creditNote(
    staff,
    id,
    [
      {
        pupilId: mine.pupil.id,
        label: 'Cursus complet — départ en janvier',
        amount: 20000,
        kind: 'proration',
      },
    ],
    'Départ de l’élève en janvier',
    autumn,
  )
  t.equal(note.number, 'A2026-000001')
  const row = await em().findOneOrFail(Invoice, note.id, { populate: ['lines', 'corrects'] })
  t.same(
    [row.kind, row.state, row.total, row.corrects?.id, row.reason],
    ['avoir', 'issued', 20000, id, 'Départ de l’élève en janvier'],
  )
  await t.rejects(creditNote(staff, id, 'full', 'Trop'), refused, 'never more than what is left')
  await t.rejects(
    creditNote(staff, note.id, 'full', 'Avoir d’avoir'),
    refused,
    'a credit note is not credited',
  )
  const rest = await creditNote(
    staff,
    id,
    [{ label: 'Solde', amount: 56580 - 20000, kind: 'tuition' }],
    'Annulation',
  )
  t.equal(rest.number, 'A2026-000002')
  t.equal(await em().count(InvoiceLine, { invoice: id }), 3, 'the invoice’s own lines are untouched')
})

t.test('payments, partial or whole, each with a receipt; above what remains is refused', async (t) => {
  const { staff, mine, draft, em } = await billingSetUp(t)
  const id = await draft(cotisation(mine.family.id, mine.pupil.id))
  const total = 56580
  const refused = await recordPayment(staff, {
    invoiceId: id,
    amount: 100,
    method: 'cheque',
    receivedOn: '2026-10-20',
  })
    .then(() => 'accepted')
    .catch((e: Error) => e.constructor.name)
  t.equal(refused, 'NotFound', 'a draft is not paid')
  await issueInvoices(staff, [id], autumn)
  const first = await recordPayment(staff, {
    invoiceId: id,
    amount: 20000,
    method: 'cheque',
    receivedOn: '2026-10-20',
    reference: 'Chèque 0012345',
  })
  t.same(first.errors, undefined)
  t.equal(first.errors === undefined && first.payment.receiptNumber, 'R2026-000001')
  const above = await recordPayment(staff, {
    invoiceId: id,
    amount: total,
    method: 'cash',
    receivedOn: '2026-10-21',
  })
  t.same(above.errors, { amount: 'Le montant dépasse ce qui reste dû (365,80\u00a0€).' })
  const zero = await recordPayment(staff, {
    invoiceId: id,
    amount: 0,
    method: 'cash',
    receivedOn: '2026-10-21',
  })
  t.same(zero.errors, { amount: 'Saisissez un montant positif, en euros.' })
  const rest = await recordPayment(staff, {
    invoiceId: id,
    amount: total - 20000,
    method: 'transfer',
    receivedOn: '2026-10-22',
  })
  t.equal(rest.errors === undefined && rest.payment.receiptNumber, 'R2026-000002')
  const payments = await em().find(Payment, { invoice: id }, { orderBy: { id: 'asc' } })
  t.same(
    payments.map((p) => [p.amount, p.method, p.reference]),
    [
      [20000, 'cheque', 'Chèque 0012345'],
      [36580, 'transfer', null],
    ],
  )
  t.equal(await em().count(AuditEvent, { action: 'invoice.payment' }), 2)
})

t.test('an invoice’s state: à payer, partiellement payée, payée, en retard', async (t) => {
  const schedule = [
    { id: 1, dueOn: '2026-11-05', amount: 3000 },
    { id: 2, dueOn: '2026-12-05', amount: 3000 },
    { id: 3, dueOn: '2027-01-05', amount: 3000 },
  ]
  const invoice = { total: 9000 }
  t.equal(balanceOf(invoice, schedule, 0, 0, '2026-10-30').status, 'toPay')
  t.equal(balanceOf(invoice, schedule, 1000, 0, '2026-10-30').status, 'partial')
  t.equal(
    balanceOf(invoice, schedule, 0, 0, '2026-11-06').status,
    'late',
    'an instalment past due and unpaid',
  )
  t.equal(balanceOf(invoice, schedule, 3000, 0, '2026-11-06').status, 'partial', 'its money covers the first')
  t.equal(balanceOf(invoice, schedule, 3000, 0, '2026-12-06').status, 'late')
  t.equal(
    balanceOf(invoice, schedule, 3000, 6000, '2027-02-01').status,
    'paid',
    'a credit note settles the rest',
  )
  const balance = balanceOf(invoice, schedule, 4000, 0, '2026-12-06')
  t.same(
    balance.schedule.map((i) => [i.left, i.late]),
    [
      [0, false],
      [2000, true],
      [3000, false],
    ],
    'payments cover the earliest instalments first',
  )
  t.same([balance.due, balance.paid, balance.remaining], [9000, 4000, 5000])
})

t.test('only the secretariat and admins bill', async (t) => {
  const { mine, draft, contextOf } = await billingSetUp(t)
  const id = await draft(cotisation(mine.family.id, mine.pupil.id))
  for (const role of ['family', 'teacher', 'direction'] as const) {
    const ctx = await contextOf(role)
    await t.rejects(issueInvoices(ctx, [id], autumn), forbidden, `${role}: issue`)
    await t.rejects(creditNote(ctx, id, 'full', 'x'), forbidden, `${role}: credit`)
    await t.rejects(
      recordPayment(ctx, { invoiceId: id, amount: 1, method: 'cash', receivedOn: '2026-10-01' }),
      forbidden,
      `${role}: payment`,
    )
  }
  const admin = await contextOf('admin')
  t.same(await issueInvoices(admin, [id], autumn), [{ id, number: 'F2026-000001' }])
})
