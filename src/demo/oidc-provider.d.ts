// oidc-provider (a dev dependency) ships no types: what the demo's and the tests' providers use of it
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface Grant {
    addOIDCScope(scope: string): void
    save(): Promise<string>
  }

  export interface OidcContext {
    oidc: {
      client?: { clientId: string }
      session?: { accountId?: string }
      requestParamScopes: Set<string>
    }
  }

  export interface Account {
    accountId: string
    claims(): Record<string, unknown> | Promise<Record<string, unknown>>
  }

  export interface Configuration {
    clients?: Record<string, unknown>[]
    findAccount?: (ctx: OidcContext, id: string) => Promise<Account | undefined>
    loadExistingGrant?: (ctx: OidcContext) => Promise<Grant | undefined>
    [key: string]: unknown
  }

  export interface InteractionDetails {
    uid: string
    prompt: { name: string }
    params: Record<string, unknown>
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration)
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>
    Grant: new (properties: {
      accountId?: string
      clientId?: string
    }) => Grant
    on(event: string, listener: (...args: unknown[]) => void): this
  }
}
