/*
 * What the logs may carry: no e-mail address, name or token (docs/decisions.md, "Logs"). Requests
 * are logged by method, URL without its secret, host and address; errors without the values of the
 * rows they were about.
 */

// an address as SMTP servers and Postgres echo it (`<claire@example.fr>`, `(claire@example.fr)`)
const address = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g

/** A text with every e-mail address replaced by "…". */
export function withoutAddresses(text: string): string {
  return text.replace(address, '…')
}

/** A URL as logged: the secret of a mailed link replaced by "…". */
export function withoutTokens(url: string): string {
  return url.replace(/(\/preinscription\/dossier\/)[^/?#]+/, '$1…').replace(/([?&]jeton=)[^&#]*/, '$1…')
}

/** Pino's shape of a logged error; a plain object logged as `err` keeps its own fields only. */
type LoggedError = { [key: string]: unknown; type: string; message: string; stack: string }

/**
 * An error as logged (pino's `err`): its type, message, stack and own fields, without Postgres'
 * `detail`, which echoes the values of the row at fault ("Key (email)=(…)", "Failing row contains
 * (…)"), and with e-mail addresses masked (an SMTP server's refusal names the recipient).
 */
export function loggedError(error: Error): LoggedError {
  const { detail: _detail, ...fields } = error as unknown as Record<string, unknown>
  const logged =
    error instanceof Error
      ? {
          type: error.constructor.name,
          message: error.message,
          stack: error.stack,
          ...fields,
          cause: error.cause instanceof Error ? loggedError(error.cause) : undefined,
        }
      : fields
  try {
    return JSON.parse(withoutAddresses(JSON.stringify(logged))) as LoggedError
  } catch {
    // a field that does not serialise (a cycle): the essentials only
    const { type, message, stack } = logged as Record<string, unknown>
    return {
      type: String(type),
      message: withoutAddresses(String(message)),
      stack: withoutAddresses(String(stack)),
    }
  }
}
