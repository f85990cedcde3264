import type { CourseSlot } from '../teaching/entities.ts'

/** Day 1 … 7 as families read it. */
export const dayNames = ['Lundi', 'Mardi', 'Mercredi', 'Jeudi', 'Vendredi', 'Samedi', 'Dimanche'] as const

/** "17:05" → "17h05", "09:30" → "9h30": the way the courses' text always wrote times. */
function frenchTime(time: string): string {
  const [hours, minutes] = time.split(':') as [string, string]
  return `${Number(hours)}h${minutes}`
}

/** "Jeudi 17h00 – 18h00"; several slots joined with ", ", in the week's order. */
export function slotText(slots: readonly CourseSlot[]): string {
  return sortSlots(slots)
    .map((s) => `${dayNames[s.day - 1]} ${frenchTime(s.start)} – ${frenchTime(s.end)}`)
    .join(', ')
}

export function sortSlots(slots: readonly CourseSlot[]): CourseSlot[] {
  return [...slots].sort((a, b) => a.day - b.day || a.start.localeCompare(b.start))
}

/** "9:30", "09:30" or "9h30" → "09:30"; undefined when it is not a time of day. */
export function parseTime(text: string): string | undefined {
  const match = /^(\d{1,2})[:h](\d{2})$/.exec(text.trim())
  if (!match) return undefined
  const hours = Number(match[1])
  const minutes = Number(match[2])
  if (hours > 23 || minutes > 59) return undefined
  return `${String(hours).padStart(2, '0')}:${match[2]}`
}

const weekday = new Map(dayNames.map((name, i) => [name.toLowerCase(), i + 1]))

/**
 * The slots a course's free text names, for courses written before slots were structured
 * ("Jeudi 17h00 – 18h00, Samedi 9h30 – 10h30"); a part it cannot read is left out.
 */
export function slotsOfText(text: string | null | undefined): CourseSlot[] {
  const slots: CourseSlot[] = []
  for (const part of (text ?? '').split(',')) {
    const match = /^\s*(\p{L}+)\s+(\d{1,2}h\d{2})\s*[–-]\s*(\d{1,2}h\d{2})\s*$/u.exec(part)
    const day = match && weekday.get(match[1]!.toLowerCase())
    const start = match && parseTime(match[2]!)
    const end = match && parseTime(match[3]!)
    if (day && start && end) slots.push({ day, start, end })
  }
  return slots
}
