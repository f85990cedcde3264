import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider, { type OidcContext } from 'oidc-provider'
import { grantWithoutConsent } from '../../src/demo/identity-provider.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TestClient {
  clientId: string
  secret: string
  /** The tenant's redirect URI, `http://<slug>.localhost/admin/connexion/oidc/retour`. */
  redirectUri: string
}

export interface TestProvider {
  issuer: string
  /** The claims of whoever signs in next at this provider (as if typed in its login page). */
  signInAs(claims: Record<string, unknown>): void
  /** From now on the provider's clock is this many seconds behind (its tokens are issued in the past). */
  lagSeconds: number
}

/**
 * A real OpenID Connect provider (oidc-provider), on an ephemeral 127.0.0.1 port, with one
 * confidential client per tenant. Its login page signs in whoever `signInAs` named; consent is
 * given by the provider itself, as for a conservatoire's first-party client.
 */
export async function startProvider(
  t: Teardown,
  options: { clients: TestClient[]; idTokenSeconds?: number },
): Promise<TestProvider> {
  let next: Record<string, unknown> = {}
  const state: TestProvider = {
    issuer: '',
    signInAs: (claims) => {
      next = claims
    },
    lagSeconds: 0,
  }
  const identities = new Map<string, Record<string, unknown>>()
  let provider: Provider | undefined
  const server = createServer(async (req, res) => {
    if (!provider) return res.end()
    const url = new URL(req.url ?? '/', state.issuer)
    if (url.pathname.startsWith('/interaction/')) {
      // the provider's login step: the person named by signInAs signs in
      await provider.interactionDetails(req, res)
      const accountId = randomBytes(8).toString('hex')
      identities.set(accountId, { ...next, sub: accountId })
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId } },
        { mergeWithLastSubmission: false },
      )
    }
    if (url.pathname === '/token' && state.lagSeconds) {
      // the provider's clock runs behind: what it issues now was issued lagSeconds ago
      const now = Date.now
      const lag = state.lagSeconds * 1000
      Date.now = () => now() - lag
      res.on('finish', () => {
        Date.now = now
      })
    }
    provider.callback()(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise((resolve) => server.close(resolve)))

  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
  provider = new Provider(state.issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.secret,
      redirect_uris: [c.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [{ ...key, kid: 'test', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { IdToken: options.idTokenSeconds ?? 3600, AuthorizationCode: 600 },
    findAccount: async (_ctx: OidcContext, id: string) => {
      const claims = identities.get(id)
      return claims && { accountId: id, claims: () => claims }
    },
    loadExistingGrant: (ctx: OidcContext) => grantWithoutConsent(provider, ctx),
  })
  return state
}

/** Cookies of one origin, as a browser keeps them. */
class Jar {
  cookies = new Map<string, string>()
  keep(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      if (value && !/max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.set(name, value)
      else this.cookies.delete(name)
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

/**
 * The browser at the provider: follows its redirects from the authorization URL, through its
 * login step, to the redirect back to the conservatoire, and returns that URL.
 */
export async function authorize(authorizationUrl: string): Promise<URL> {
  const jar = new Jar()
  let url = new URL(authorizationUrl)
  const origin = url.origin
  for (let hops = 0; hops < 10; hops++) {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } })
    jar.keep(response)
    const location = response.headers.get('location')
    if (!location)
      throw new Error(`the provider answered ${response.status} at ${url}: ${await response.text()}`)
    url = new URL(location, url)
    if (url.origin !== origin) return url
  }
  throw new Error('the provider redirected too many times')
}
