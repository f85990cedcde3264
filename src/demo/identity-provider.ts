import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Tenant } from '../platform/tenancy/registry.ts'
import type { default as Provider, OidcContext } from 'oidc-provider'

const returnPath = '/admin/connexion/oidc/retour'

async function formBody(request: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of request) {
    body += chunk
    if (body.length > 10_000) break
  }
  return new URLSearchParams(body)
}

const loginPage = (emails: string[]) => `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Annuaire de démonstration</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">
<h1>Annuaire de démonstration</h1>
<p>Ce fournisseur d'identité ne sert qu'à la démonstration : il reconnaît toute adresse sans mot de passe.
Les comptes du personnel de la démo ont ces adresses : ${emails.map((e) => `<code>${e}</code>`).join(', ')}.
Une autre adresse montre le refus d'une identité inconnue.</p>
<form method="post">
<p><label for="email">Adresse e-mail professionnelle</label><br>
<input id="email" name="email" type="email" required autocomplete="email" value="${emails[0] ?? ''}" size="30"></p>
<p><button type="submit">Se connecter</button></p>
</form></body></html>`

/**
 * Outside production only: the OpenID Connect provider that demo conservatoires name in their tenant
 * file (`staffSignIn.oidc.issuer: http://localhost:<port>`), served on that port, so that "Se
 * connecter avec …" works in `npm start`. It vouches for any address typed on its page (verified, no
 * password). oidc-provider is a dev dependency, hence the dynamic import.
 */
export async function startDemoIdentityProvider(options: {
  host: string
  tenants: Tenant[]
  staffEmails: string[]
}): Promise<{ issuer: string; server: Server } | undefined> {
  const named = options.tenants.flatMap((tenant) => {
    const oidc = tenant.config.staffSignIn.oidc
    const issuer = oidc?.issuer.replace(/\/$/, '')
    return oidc && issuer && /^http:\/\/localhost:\d+$/.test(issuer) ? [{ tenant, oidc, issuer }] : []
  })
  const issuer = named[0]?.issuer
  if (!issuer) return undefined
  // public clients: the demo has no secret to keep, PKCE protects the code
  const clients = named
    .filter((n) => n.issuer === issuer)
    .map(({ tenant, oidc }) => ({
      client_id: oidc.clientId,
      token_endpoint_auth_method: 'none',
      redirect_uris: [`${tenant.baseUrl}${returnPath}`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }))

  const { default: Provider } = await import('oidc-provider')
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
  const provider: InstanceType<typeof Provider> = new Provider(issuer, {
    clients,
    jwks: { keys: [{ ...key, kid: 'demo', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: id, email_verified: true }),
    }),
    loadExistingGrant: (ctx) => grantWithoutConsent(provider, ctx),
  })
  const handle = provider.callback()
  const server = createServer(async (request, response) => {
    try {
      if (!request.url?.startsWith('/interaction/')) return handle(request, response)
      await provider.interactionDetails(request, response)
      if (request.method !== 'POST') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        return response.end(loginPage(options.staffEmails))
      }
      const email = (await formBody(request)).get('email')?.trim().toLowerCase() ?? ''
      await provider.interactionFinished(
        request,
        response,
        { login: { accountId: email || 'anonyme@example.fr' } },
        { mergeWithLastSubmission: false },
      )
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
      response.end('Connexion expirée : recommencez depuis la page de connexion du conservatoire.')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(Number(new URL(issuer).port), options.host, resolve)
  })
  // the demo's process ends with the app: this server must not keep it alive
  server.unref()
  return { issuer, server }
}

/** The conservatoire's own client: what it asks is granted, without a consent page. */
export async function grantWithoutConsent(provider: Provider | undefined, ctx: OidcContext) {
  if (!provider || !ctx.oidc.client || !ctx.oidc.session?.accountId) return undefined
  const grant = new provider.Grant({
    clientId: ctx.oidc.client.clientId,
    accountId: ctx.oidc.session.accountId,
  })
  grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '))
  await grant.save()
  return grant
}
