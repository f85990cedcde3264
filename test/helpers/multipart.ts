import { randomBytes } from 'node:crypto'
import { html } from './build.ts'
import type { Browser } from './accounts.ts'

export interface FilePart {
  name: string
  fileName: string
  contentType: string
  content: Buffer
}

/** A multipart/form-data body with the fields in order, as a browser sends a form; the file last. */
export function multipartBody(fields: Record<string, string>, file?: FilePart) {
  const boundary = `----tutti${randomBytes(8).toString('hex')}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    )
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.fileName}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    )
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}

/** The smallest real files of each type, and one of any size that keeps its type's signature. */
export const samples = {
  pdf: (size = 400) =>
    padded(Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n'), size, Buffer.from('\n%%EOF\n')),
  png: (size = 200) =>
    padded(
      Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'),
      size,
      Buffer.alloc(0),
    ),
  jpeg: (size = 200) =>
    padded(Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), size, Buffer.from('ffd9', 'hex')),
}

function padded(head: Buffer, size: number, tail: Buffer): Buffer {
  return Buffer.concat([
    head,
    Buffer.alloc(Math.max(0, size - head.length - tail.length), 0x20),
    tail,
  ]).subarray(0, size)
}

/** Sends the Importer form of a page as a browser does: its CSRF token, the document chosen, the file. */
export async function importDocument(
  browser: Browser,
  page: string,
  fields: { document?: string },
  file?: Omit<FilePart, 'name'>,
) {
  const shown = await browser.get(page)
  // the document's own Importer form, or any of the page's (to post what a person could not choose)
  const form =
    html(shown.body).querySelector(
      `tr[id$="document-${fields.document}"] form[enctype="multipart/form-data"]`,
    ) ?? html(shown.body).querySelector('form[enctype="multipart/form-data"]')
  if (!form) throw new Error(`no Importer form on ${page} (status ${shown.statusCode})`)
  const token = form.querySelector('input[name="_csrf"]')!.getAttribute('value')!
  const { body, contentType } = multipartBody(
    { _csrf: token, document: fields.document ?? '' },
    {
      name: 'file',
      fileName: '',
      contentType: 'application/octet-stream',
      content: Buffer.alloc(0),
      ...file,
    },
  )
  return browser.app.inject({
    method: 'POST',
    url: form.getAttribute('action')!,
    headers: { host: browser.host, cookie: browser.cookieHeader(), 'content-type': contentType },
    payload: body,
  })
}
