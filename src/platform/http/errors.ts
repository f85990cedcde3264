import type { MessageKey } from '../views/i18n.ts'

/** A domain error people may see: its status picks the French page the error handler renders. */
export class HttpError extends Error {
  readonly statusCode: number
  readonly titleKey: MessageKey
  readonly bodyKey: MessageKey

  constructor(statusCode: number, titleKey: MessageKey, bodyKey: MessageKey, message?: string) {
    super(message ?? bodyKey)
    this.statusCode = statusCode
    this.titleKey = titleKey
    this.bodyKey = bodyKey
  }
}

export class NotFound extends HttpError {
  constructor(bodyKey: MessageKey = 'error.404.body') {
    super(404, 'error.404.title', bodyKey)
  }
}

export class Forbidden extends HttpError {
  constructor(bodyKey: MessageKey = 'error.403.body') {
    super(403, 'error.403.title', bodyKey)
  }
}

export class UnknownHost extends HttpError {
  constructor() {
    super(404, 'error.404.title', 'error.404host.body')
  }
}

export class TenantDisabled extends HttpError {
  constructor() {
    super(503, 'error.disabled.title', 'error.disabled.body')
  }
}

/** A state-changing form without its CSRF token: usually a page left open too long. */
export class CsrfRefused extends HttpError {
  constructor() {
    super(403, 'error.csrf.title', 'error.csrf.body')
  }
}

/** Too many attempts; the page says when to retry (from the Retry-After header). */
export class TooManyAttempts extends HttpError {
  constructor() {
    super(429, 'error.429.title', 'error.429.body')
  }
}
