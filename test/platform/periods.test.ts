import t from 'tap'
import { resolveBound, resolvePeriod } from '../../src/platform/tenancy/periods.ts'
import { formatDate, formatTime } from '../../src/platform/views/dates.ts'

t.test('a closing date means 23:59 that day in the tenant’s timezone', async (t) => {
  const closes = resolveBound('2025-06-11', 'closes', 'Europe/Paris', new Date())
  t.equal(closes.toISOString(), '2025-06-11T21:59:59.999Z', 'summer time: UTC+2')
  t.equal(
    `${formatDate(closes, 'Europe/Paris')} à ${formatTime(closes, 'Europe/Paris')}`,
    '11/06/2025 à 23:59',
  )
  const winter = resolveBound('2025-12-11', 'closes', 'Europe/Paris', new Date())
  t.equal(winter.toISOString(), '2025-12-11T22:59:59.999Z', 'winter time: UTC+1')
  t.equal(
    resolveBound('2025-06-11', 'closes', 'America/Cayenne', new Date()).toISOString(),
    '2025-06-12T02:59:59.999Z',
  )
})

t.test('an opening date means 00:00, a local time is taken as written', async (t) => {
  t.equal(
    resolveBound('2025-05-15', 'opens', 'Europe/Paris', new Date()).toISOString(),
    '2025-05-14T22:00:00.000Z',
  )
  t.equal(
    resolveBound('2025-03-30T09:00', 'opens', 'Europe/Paris', new Date()).toISOString(),
    '2025-03-30T07:00:00.000Z',
  )
})

t.test('relative bounds follow the tenant’s calendar day', async (t) => {
  // 23:30 UTC on 31 Dec is already 1 January in Paris
  const now = new Date('2025-12-31T23:30:00Z')
  t.equal(resolveBound('today', 'opens', 'Europe/Paris', now).toISOString(), '2025-12-31T23:00:00.000Z')
  t.equal(resolveBound('today+1', 'closes', 'Europe/Paris', now).toISOString(), '2026-01-02T22:59:59.999Z')
  t.equal(resolveBound('today-30', 'opens', 'Europe/Paris', now).toISOString(), '2025-12-01T23:00:00.000Z')
})

t.test('a period is open between its bounds, both included', async (t) => {
  const spec = { opens: '2025-05-15', closes: '2025-06-11' }
  t.equal(resolvePeriod(spec, 'Europe/Paris', new Date('2025-06-11T21:59:59Z'))?.open, true)
  t.equal(resolvePeriod(spec, 'Europe/Paris', new Date('2025-06-11T22:00:00Z'))?.open, false)
  t.equal(resolvePeriod(spec, 'Europe/Paris', new Date('2025-05-14T21:59:59Z'))?.open, false)
  t.equal(resolvePeriod(undefined, 'Europe/Paris'), undefined)
})

t.test('a plain date is shown as written, whatever the timezone', async (t) => {
  t.equal(formatDate('2014-03-09', 'Pacific/Kiritimati'), '09/03/2014')
  t.equal(formatDate('2014-03-09', 'America/Los_Angeles'), '09/03/2014')
})
