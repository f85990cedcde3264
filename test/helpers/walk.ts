import { seedDemoAttendance } from '../../src/demo/attendance.ts'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { demoPassword, seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemoBilling } from '../../src/demo/billing.ts'
import { seedDemoPayfip } from '../../src/demo/payfip.ts'
import { seedDemoDebits } from '../../src/demo/debits.ts'
import { seedDemoRepertoirePieces } from '../../src/demo/repertoire-pieces.ts'
import { seedDemoEvaluations } from '../../src/demo/evaluations.ts'
import { seedDemoPlaces } from '../../src/demo/places.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { build } from './build.ts'
import { launchBrowser } from './chromium.ts'
import { tenantBaseUrl } from '../../src/platform/tenancy/registry.ts'
import { demoTenant } from './reenrolment.ts'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export const widths = [390, 1280] as const

/** Something a person would meet on a page: an axe-core violation, sideways scrolling, an error status. */
export interface Finding {
  page: string
  width: number
  problem: string
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * Demo conservatoires (under fresh slugs, with the demo data and accounts `npm start` gives) served
 * on a port, and a chromium to visit them.
 */
export async function demoSite(t: Teardown, demos: string[]) {
  const { app, host, tenants } = await build(t, { tenants: demos.map((slug) => demoTenant(slug)) })
  await seedDemo(app.orm, tenants)
  await seedDemoAccounts(app.orm, tenants)
  await seedDemoBilling(app.orm, tenants)
  await seedDemoPayfip(app.orm, tenants)
  await seedDemoDebits(app.orm, tenants, app.config.billingKey)
  await seedDemoAttendance(app.orm, tenants)
  await seedDemoRepertoirePieces(app.orm, tenants)
  await seedDemoEvaluations(app.orm, tenants)
  await seedDemoPlaces(app.orm, tenants, (config) => tenantBaseUrl(app.config, config))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const browser = await launchBrowser(t)
  return {
    app,
    tenants,
    origin: (i = 0) => `http://${host(i)}:${port}`,
    // axe is injected as an inline script, which the portal's CSP rightly forbids
    newPage: async () => (await browser.newContext({ bypassCSP: true, locale: 'fr-FR' })).newPage(),
  }
}

/** The page as shown, at each width: no sideways scrolling, and what axe-core finds against WCAG 2.1 AA. */
export async function check(page: Page, label: string): Promise<Finding[]> {
  const findings: Finding[] = []
  for (const width of widths) {
    await page.setViewportSize({ width, height: 844 })
    // evaluated in the page, as strings: this project's TypeScript knows no DOM
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
    if (overflow > 0) findings.push({ page: label, width, problem: `${overflow} px wider than the screen` })
    if ((await page.evaluate<string>('typeof axe')) === 'undefined')
      await page.addScriptTag({ content: axeSource })
    const violations = await page.evaluate<string[]>(`
      axe.run({ runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }).then((result) =>
        result.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')),
      )`)
    for (const problem of violations) findings.push({ page: label, width, problem })
  }
  return findings
}

/**
 * Links a person follows: a page of the portal, not a file (a PDF), an export, the outbox, a sign-out or a
 * sign-in at the conservatoire's identity provider (another site).
 */
const followable = (href: string) =>
  href.startsWith('/') &&
  !href.startsWith('//') &&
  !/\/fichier|\.csv|\/pdf$|\.pdf$|\/export|\/_outbox|\/deconnexion|\/connexion\/oidc/.test(href)

/** One visit per kind of page: /eleves/12/cours and /eleves/13/cours look alike, as do their filters and two lessons' roll calls. */
const kindOf = (href: string) =>
  href
    .split(/[?#]/)[0]!
    // a lesson's key, "12-2026-12-03-0", as one kind of page whatever its course and date
    .replace(/\/\d+-\d{4}-\d{2}-\d{2}-\d+(?=\/|$)/g, '/:lesson')
    .replace(/\/\d+(?=\/|$)/g, '/:id')

/**
 * Every kind of page reachable from `start` through links, breadth first, each checked at both
 * widths; returns the kinds walked and what was found.
 */
export async function walk(page: Page, origin: string, start: string, maxPages = 40) {
  const findings: Finding[] = []
  const seen = new Set<string>()
  const queue = [start]
  while (queue.length > 0 && seen.size < maxPages) {
    const path = queue.shift()!
    if (seen.has(kindOf(path))) continue
    seen.add(kindOf(path))
    const response = await page.goto(`${origin}${path}`)
    const status = response?.status() ?? 0
    if (status >= 400) findings.push({ page: path, width: 0, problem: `answered ${status}` })
    findings.push(...(await check(page, path)))
    const hrefs = await page.$$eval('a[href]', (links) => links.map((a) => a.getAttribute('href') ?? ''))
    for (const href of hrefs) if (followable(href) && !seen.has(kindOf(href))) queue.push(href)
  }
  return { walked: [...seen], findings }
}

/** Signs in through the portal's page, as the person would. */
export async function signIn(page: Page, origin: string, path: string, identifiant: string) {
  await page.goto(`${origin}${path}`)
  await page.fill('#identifiant', identifiant)
  await page.fill('#password', demoPassword)
  await Promise.all([
    page.waitForURL((url) => !url.pathname.endsWith('connexion')),
    page.click('button[type=submit]'),
  ])
}
