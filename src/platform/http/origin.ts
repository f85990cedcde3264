import type { FastifyRequest } from 'fastify'

/** Origin of this request's portal, for links in mails: the host the person is using. */
export function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host}`
}
