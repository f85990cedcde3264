import { create as contentDisposition } from 'content-disposition'
import type { FastifyReply } from 'fastify'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { addressee } from './invoices.ts'
import type { PdfFrame } from './pdf.ts'

/** The name and address of responsable 1 as a document is made out to them. */
interface Addressee {
  civility?: string | null
  firstName: string
  lastName: string
  address?: string | null
  postalCode?: string | null
  city?: string | null
}

/** What every PDF of a family's says around its content: the tenant, and responsable 1 as addressee. */
export async function pdfFrame(ctx: SignedInContext, familyId: number): Promise<PdfFrame> {
  return frameFor(ctx, await addressee(ctx.em, familyId))
}

/** The same, with responsable 1 read already. */
export function frameFor(ctx: SignedInContext, guardian: Addressee | null | undefined): PdfFrame {
  return {
    config: ctx.config,
    t: ctx.t,
    addressee: guardian
      ? {
          name: [guardian.civility, guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
          address: [guardian.address, [guardian.postalCode, guardian.city].filter(Boolean).join(' ')].filter(
            (line): line is string => Boolean(line),
          ),
        }
      : undefined,
  }
}

/** A PDF as a download: never shown inline, never sniffed into something else. */
export function sendPdf(reply: FastifyReply, fileName: string, pdf: Buffer) {
  return reply
    .header('content-type', 'application/pdf')
    .header('content-disposition', contentDisposition(fileName, { type: 'attachment' }))
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, no-store')
    .send(pdf)
}
