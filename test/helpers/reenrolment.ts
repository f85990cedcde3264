import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { html } from './build.ts'
import { createFamily } from './families.ts'

/** A demo tenant's YAML as build() takes it: everything but its own slug and hosts. */
export function demoTenant(slug: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const yaml = parse(
    readFileSync(fileURLToPath(new URL(`../../tenants/${slug}.yaml`, import.meta.url)), 'utf8'),
  )
  delete yaml.slug
  delete yaml.hosts
  return { ...yaml, ...overrides }
}

/**
 * A family of the tenant whose pupil's identity is complete, as the demo YAMLs require before a
 * re-enrolment: what the office recorded.
 */
export async function reenrollingFamily(app: FastifyInstance, slug: string) {
  const family = await createFamily(app, slug, 'famille-martin')
  await app.orm.em
    .fork({ schema: schemaFor(slug) })
    .nativeUpdate(
      Pupil,
      { id: family.pupil.id },
      { civility: 'Madame', schoolLevel: 'CM1', school: 'Non scolarisé·e' },
    )
  return family
}

/** This year's courses of a pupil: one in each given discipline, taught at the tenant's first site. */
export async function enrolIn(
  app: FastifyInstance,
  slug: string,
  pupil: Pupil,
  disciplines: string[],
  establishment: string,
) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const year =
    (await em.findOne(SchoolYear, { current: true })) ??
    em.create(SchoolYear, { label: '2026-2027', startsOn: '2026-09-01', endsOn: '2027-08-31', current: true })
  const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière' })
  const courses = disciplines.map((discipline) =>
    em.create(Course, {
      schoolYear: year,
      discipline,
      establishment,
      name: `Cours ${discipline}`,
      teacher,
      slot: 'Mercredi 14h00',
    }),
  )
  for (const course of courses) em.create(Enrolment, { pupil, course })
  await em.flush()
  return courses
}

/** What a browser sends for the wizard's form: its inputs, inside it or joined to it by `form=`. */
export function wizardValues(body: string): Record<string, string> {
  const page = html(body)
  const form = page.querySelector('form#reenrolment-form')
  if (!form) throw new Error('no re-enrolment form on the page')
  const values: Record<string, string> = {}
  const inputs = [
    ...form.querySelectorAll('input[name]'),
    ...page.querySelectorAll('[form="reenrolment-form"][name]'),
  ]
  for (const input of inputs) {
    const tag = input.tagName.toLowerCase()
    const name = input.getAttribute('name')!
    if (tag === 'select') {
      const chosen = input.querySelector('option[selected]')
      values[name] = chosen?.getAttribute('value') ?? ''
    } else if (tag === 'textarea') {
      values[name] = input.text
    } else if (tag !== 'button') {
      const type = input.getAttribute('type') ?? 'text'
      if ((type === 'radio' || type === 'checkbox') && !input.hasAttribute('checked')) continue
      values[name] = input.getAttribute('value') ?? ''
    }
  }
  return values
}
