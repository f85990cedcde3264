import type { FastifyInstance } from 'fastify'
import { Preregistration } from '../../src/features/preregistration/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import type { Browser } from './accounts.ts'
import { html } from './build.ts'
import { formValues } from './forms.ts'
import type { Inbox, ParsedMail } from './smtp.ts'

/** A complete dossier as a family types it on Limoges' form: two guardians, two applicants. */
export function filledForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    secondGuardian: 'true',
    applicants: '2',
    'g1-civility': 'Madame',
    'g1-lastName': 'Durand',
    'g1-firstName': 'Claire',
    'g1-address': '12 rue des Tanneurs',
    'g1-postalCode': '87000',
    'g1-city': 'Limoges',
    'g1-phoneMobile': '0612345678',
    'g1-email': 'claire.durand@example.fr',
    'g2-civility': 'Monsieur',
    'g2-lastName': 'Durand',
    'g2-firstName': 'Paul',
    'g2-address': '12 rue des Tanneurs',
    'g2-postalCode': '87000',
    'g2-city': 'Limoges',
    'g2-email': 'paul.durand@example.fr',
    'p0-civility': 'Madame',
    'p0-lastName': 'Durand',
    'p0-firstName': 'Léa',
    'p0-birthDate': '2015-04-04',
    'p0-useGuardianAddress': 'true',
    'p0-choice1': 'piano',
    'p0-choice2': 'violon',
    'p0-freeText': 'Deux ans de piano à l’école de musique de Panazol.',
    'p1-civility': 'Monsieur',
    'p1-lastName': 'Durand',
    'p1-firstName': 'Hugo',
    'p1-birthDate': '2018-09-20',
    'p1-useGuardianAddress': 'true',
    'p1-choice1': 'eveil-musical',
    confirmEmail: 'Claire.Durand@example.fr',
    antiSpam: ' 26 ',
    homepage: '',
    action: 'save',
    ...overrides,
  }
}

/** Posts the form from the page that shows it, as a browser does: its CSRF token, then the fields. */
export async function postForm(browser: Browser, pageUrl: string, fields: Record<string, string>) {
  const page = await browser.get(pageUrl)
  const token = html(page.body).querySelector('form.prereg-form input[name="_csrf"]')?.getAttribute('value')
  if (!token) throw new Error(`no pré-inscription form on ${pageUrl} (status ${page.statusCode})`)
  return browser.post(pageUrl, { _csrf: token, ...fields })
}

/** What the page's form would send as shown (inputs, selects, textareas), for round trips. */
export function shownValues(body: string, action: string): Record<string, string> {
  const values = formValues(body, action)
  for (const area of html(body).querySelectorAll(`form[action="${action}"] textarea[name]`))
    values[area.getAttribute('name')!] = area.text
  return values
}

/** The value an input or a select shows. */
export const fieldValue = (body: string, name: string) =>
  html(body).querySelector(`[name="${name}"]`)?.getAttribute('value') ??
  html(body).querySelector(`select[name="${name}"] option[selected]`)?.getAttribute('value')

const linkPattern = /https?:\/\/\S+\/preinscription\/dossier\/([A-Za-z0-9_-]+)/

/** The private link of an acknowledgement, and its path on the tenant's host. */
export function dossierLink(mail: ParsedMail): { token: string; path: string } {
  const token = linkPattern.exec(mail.text)?.[1]
  if (!token) throw new Error(`no dossier link in "${mail.subject}"`)
  return { token, path: `/preinscription/dossier/${token}` }
}

/** The n-th mail whose subject matches, waiting for the outbox worker to send it. */
export async function nthMail(inbox: Inbox, pattern: RegExp, n = 1, timeoutMs = 10_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = inbox.messages.filter((m) => pattern.test(m.subject))
    if (found.length >= n) return found[n - 1]!
    if (Date.now() > deadline) throw new Error(`mail ${n} matching ${pattern} not received`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export function dossiers(app: FastifyInstance, slug: string) {
  return app.orm.em.fork({ schema: schemaFor(slug) }).find(Preregistration, {}, { orderBy: { id: 'asc' } })
}
