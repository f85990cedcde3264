import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Account, type Role } from '../../src/platform/auth/entities.ts'
import { hashPassword } from '../../src/platform/auth/passwords.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { html } from './build.ts'

export const goodPassword = 'une phrase de passe solide'

/** An account with a password, straight in the tenant's schema. */
export async function createAccount(
  app: FastifyInstance,
  slug: string,
  fields: { identifiant: string; role?: Role; password?: string; email?: string; displayName?: string },
) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const account = em.create(Account, {
    identifiant: fields.identifiant,
    role: fields.role ?? 'family',
    email: fields.email ?? `${fields.identifiant}@example.fr`,
    displayName: fields.displayName ?? 'Camille Martin',
    passwordHash: await hashPassword(fields.password ?? goodPassword),
  })
  await em.flush()
  return account
}

/** A browser's cookie jar, kept per host as a browser would. */
export class Browser {
  readonly app: FastifyInstance
  readonly host: string
  cookies = new Map<string, string>()

  /** The client's address, as the server sees it (limits count per address). */
  readonly address: string

  constructor(app: FastifyInstance, host: string, address = '127.0.0.1') {
    this.app = app
    this.host = host
    this.address = address
  }

  private keep(res: LightMyRequestResponse) {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const gone = c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())
      if (gone || c.value === '') this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return res
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async get(url: string, headers: Record<string, string> = {}) {
    return this.keep(
      await this.app.inject({
        url,
        remoteAddress: this.address,
        headers: { host: this.host, cookie: this.cookieHeader(), ...headers },
      }),
    )
  }

  /** Posts a form the way a person does: from the page that shows it, with its CSRF token. */
  async submit(pageUrl: string, action: string, fields: Record<string, string>) {
    const page = await this.get(pageUrl)
    const token = html(page.body)
      .querySelector(`form[action="${action}"] input[name="_csrf"]`)
      ?.getAttribute('value')
    if (!token) throw new Error(`no form to ${action} on ${pageUrl} (status ${page.statusCode})`)
    return this.post(action, { _csrf: token, ...fields })
  }

  async post(url: string, fields: Record<string, string>) {
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.address,
        headers: {
          host: this.host,
          cookie: this.cookieHeader(),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams(fields).toString(),
      }),
    )
  }
}

/** A browser signed in through the page at `path` (staff: /admin/connexion) with the test password. */
export async function signedInBrowser(
  app: FastifyInstance,
  host: string,
  identifiant: string,
  path = '/connexion',
) {
  const browser = new Browser(app, host)
  const res = await browser.submit(path, path, { identifiant, password: goodPassword })
  if (res.statusCode !== 303)
    throw new Error(`sign-in of ${identifiant} on ${host}${path}: ${res.statusCode}`)
  return browser
}
