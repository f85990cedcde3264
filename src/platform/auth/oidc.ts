import * as client from 'openid-client'
import type { TenantConfig } from '../tenancy/tenant-config.ts'

/** A tenant's identity provider, as its configuration describes it. */
export type OidcProvider = NonNullable<TenantConfig['staffSignIn']['oidc']>

/** The ID token's claims, once openid-client has validated its signature, issuer, audience, expiry and nonce. */
export type IdClaims = client.IDToken

/**
 * What the start of a sign-in leaves with the browser (in a signed cookie) and the return checks:
 * the tenant and the provider it was started for, the PKCE verifier, the state, the nonce, and where
 * to go once signed in.
 */
export interface PendingSignIn {
  tenant: string
  issuer: string
  clientId: string
  verifier: string
  state: string
  nonce: string
  retour: string
  /** Epoch milliseconds after which the return is refused. */
  expires: number
}

/** Why a provider cannot be used at all (not why one person's sign-in failed): logged, never shown. */
export class OidcUnavailable extends Error {}

/** A sign-in must come back within this. */
export const pendingLifetimeMs = 10 * 60_000

/** How long a provider's discovered settings (endpoints, keys' address) are kept before asking again. */
const discoveryLifetimeMs = 60 * 60_000

/**
 * openid-client's side of staff sign-in: the providers' discovered settings, cached per (issuer,
 * client, secret variable) and asked again after an hour or when the configuration names another
 * issuer (the tenant's configuration may change while the process runs), the authorization URL with
 * PKCE, state and nonce, and the code exchanged for a validated ID token.
 */
export class OidcClients {
  readonly #allowHttp: boolean
  readonly #env: NodeJS.ProcessEnv
  readonly #discovered = new Map<string, { until: number; config: Promise<client.Configuration> }>()

  /** `allowHttp`: outside production only, for the tests' and the demo's providers. */
  constructor(options: { allowHttp: boolean; env?: NodeJS.ProcessEnv }) {
    this.#allowHttp = options.allowHttp
    this.#env = options.env ?? process.env
  }

  configuration(provider: OidcProvider): Promise<client.Configuration> {
    const key = JSON.stringify([provider.issuer, provider.clientId, provider.clientSecretEnv ?? null])
    const now = Date.now()
    const known = this.#discovered.get(key)
    if (known && known.until > now) return known.config
    const config = this.#discover(provider)
    this.#discovered.set(key, { until: now + discoveryLifetimeMs, config })
    // a provider that was down is asked again at the next sign-in, not an hour later
    config.catch(() => {
      if (this.#discovered.get(key)?.config === config) this.#discovered.delete(key)
    })
    return config
  }

  async #discover(provider: OidcProvider): Promise<client.Configuration> {
    const issuer = new URL(provider.issuer)
    const insecure = issuer.protocol === 'http:'
    if (insecure && !this.#allowHttp)
      throw new OidcUnavailable(`http issuer refused in production: ${issuer}`)
    let secret: string | undefined
    if (provider.clientSecretEnv) {
      secret = this.#env[provider.clientSecretEnv]
      if (!secret) throw new OidcUnavailable(`environment variable ${provider.clientSecretEnv} is not set`)
    }
    return client.discovery(
      issuer,
      provider.clientId,
      secret,
      // the spec's default method, which every provider supports; without a secret, PKCE only
      secret ? client.ClientSecretBasic(secret) : client.None(),
      { timeout: 10, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
    )
  }

  /** The provider's authorization URL for this sign-in, and what the return will be checked against. */
  async start(
    provider: OidcProvider,
    redirectUri: string,
    tenant: string,
    retour: string,
  ): Promise<{ url: URL; pending: PendingSignIn }> {
    const config = await this.configuration(provider)
    const pending: PendingSignIn = {
      tenant,
      issuer: provider.issuer,
      clientId: provider.clientId,
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
      retour,
      expires: Date.now() + pendingLifetimeMs,
    }
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: provider.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    })
    return { url, pending }
  }

  /**
   * Checks the provider's answer (`currentUrl`: the redirect URI with its query) against the pending
   * sign-in, exchanges the code and returns the ID token's validated claims, completed from UserInfo
   * when the ID token lacks the e-mail or the groups. Throws on any failure:
   * an error from the provider, another state, a spent code, an expired or foreign ID token.
   */
  async finish(provider: OidcProvider, pending: PendingSignIn, currentUrl: URL): Promise<IdClaims> {
    const config = await this.configuration(provider)
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    })
    const claims = tokens.claims()
    if (!claims) throw new Error('the provider returned no ID token')
    // providers that follow the spec to the letter put the claims asked by scope in UserInfo only
    const wanted = [provider.emailClaim, 'email_verified', provider.groupsClaim].filter(
      (c) => c !== undefined,
    )
    if (wanted.every((claim) => claim in claims) || !config.serverMetadata().userinfo_endpoint) return claims
    const userInfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    // the ID token's claims win: they are signed; UserInfo's only fill the gaps (same subject, checked)
    return { ...userInfo, ...claims }
  }
}
