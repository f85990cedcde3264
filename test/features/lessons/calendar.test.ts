import t from 'tap'
import {
  closureOn,
  isScheduled,
  lessonsOf,
  parseLessonKey,
  publicHolidays,
  scheduledDates,
} from '../../../src/features/lessons/calendar.ts'

const calendar = {
  calendar: { holidays: [{ label: 'Vacances de Noël', from: '2026-12-19', to: '2027-01-03' }] },
}
const thursday = [{ day: 4, start: '17:00', end: '18:00' }]

t.test('French public holidays follow Easter', async (t) => {
  const holidays = publicHolidays(2027)
  t.equal(holidays.get('2027-03-29'), 'Lundi de Pâques')
  t.equal(holidays.get('2027-05-06'), 'Ascension')
  t.equal(holidays.get('2027-05-17'), 'Lundi de Pentecôte')
  t.equal(holidays.get('2027-11-11'), 'Armistice 1918')
  t.equal(publicHolidays(2026).get('2026-04-06'), 'Lundi de Pâques')
})

t.test('a lesson falls on its weekday, never in school or public holidays', async (t) => {
  const dates = scheduledDates(thursday, { from: '2026-12-01', to: '2027-01-14' }, calendar)
  t.same(
    dates.map((d) => d.on),
    ['2026-12-03', '2026-12-10', '2026-12-17', '2027-01-07', '2027-01-14'],
  )
  t.equal(closureOn(calendar, '2026-12-24'), 'Vacances de Noël')
  t.equal(closureOn({}, '2026-11-11'), 'Armistice 1918')
  t.equal(closureOn({}, '2026-11-12'), undefined)
  const year = { from: '2026-09-01', to: '2027-08-31' }
  t.ok(isScheduled(thursday, { on: '2026-12-17', slot: 0 }, year, calendar))
  t.notOk(isScheduled(thursday, { on: '2026-12-24', slot: 0 }, year, calendar), 'in the holidays')
  t.notOk(isScheduled(thursday, { on: '2026-12-16', slot: 0 }, year, calendar), 'a Wednesday')
  t.notOk(isScheduled(thursday, { on: '2026-12-17', slot: 1 }, year, calendar), 'no second slot')
  t.notOk(isScheduled(thursday, { on: '2025-12-18', slot: 0 }, year, calendar), 'another year')
})

t.test('a moved lesson shows where it went, a cancelled one stays listed as cancelled', async (t) => {
  const course = { id: 7, slots: thursday, room: 'Salle 2' }
  const change = {
    courseId: 7,
    slot: 0,
    cancelledAt: null,
    cancelReason: null,
    movedRoom: null,
    movedEnd: '19:00',
  }
  const lessons = lessonsOf([course], { from: '2026-12-07', to: '2026-12-13' }, calendar, [
    { ...change, on: '2026-12-03', movedOn: '2026-12-08', movedStart: '18:00' },
    {
      ...change,
      on: '2026-12-10',
      movedOn: null,
      movedStart: null,
      movedEnd: null,
      cancelledAt: new Date(),
      cancelReason: 'Grève',
    },
  ])
  t.same(
    lessons.map((l) => [l.on, l.date, l.start, l.end, l.moved, l.cancelled]),
    [
      ['2026-12-03', '2026-12-08', '18:00', '19:00', true, false],
      ['2026-12-10', '2026-12-10', '17:00', '18:00', false, true],
    ],
  )
})

t.test('lesson keys are read strictly', async (t) => {
  t.same(parseLessonKey('12-2026-12-03-0'), { courseId: 12, on: '2026-12-03', slot: 0 })
  t.equal(parseLessonKey('12-2026-02-30-0'), undefined)
  t.equal(parseLessonKey('x-2026-12-03-0'), undefined)
})
