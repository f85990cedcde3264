import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

/** What the tests read of a received mail. */
export interface ParsedMail {
  headers: Map<string, string>
  subject: string
  to: string
  text: string
  html: string
  /** Parts sent as attachments, their bytes decoded. */
  attachments: { type: string; fileName: string; content: Buffer }[]
  raw: string
}

function decode(body: string, encoding: string | undefined): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`)
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'))
  }
  return body
}

function headersOf(block: string): Map<string, string> {
  const headers = new Map<string, string>()
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  return headers
}

/** An attachment's name, also when RFC 2231 cut and encoded it (filename*0*=utf-8''…; filename*1*=…). */
function fileNameOf(disposition: string): string {
  const pieces = [...disposition.matchAll(/filename(\*\d+)?(\*)?="?([^";]*)"?/gi)]
  const joined = pieces.map((m) => m[3]).join('')
  return pieces.some((m) => m[2]) ? decodeURIComponent(joined.replace(/^utf-8''/i, '')) : joined
}

/** Enough MIME for nodemailer's messages: headers, and the text and HTML parts. */
export function parseMail(raw: string): ParsedMail {
  const split = raw.search(/\r?\n\r?\n/)
  const headers = headersOf(raw.slice(0, split))
  const parts: { type: string; body: string }[] = []
  const attachments: ParsedMail['attachments'] = []
  const walk = (partHeaders: Map<string, string>, body: string) => {
    const type = partHeaders.get('content-type') ?? 'text/plain'
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
    if (boundary) {
      for (const chunk of body.split(`--${boundary}`).slice(1, -1)) {
        const at = chunk.search(/\r?\n\r?\n/)
        walk(headersOf(chunk.slice(0, at).trim()), chunk.slice(at).replace(/^\r?\n\r?\n/, ''))
      }
    } else if (/^attachment/i.test(partHeaders.get('content-disposition') ?? '')) {
      const disposition = partHeaders.get('content-disposition') ?? ''
      attachments.push({
        type,
        fileName: fileNameOf(disposition),
        content:
          partHeaders.get('content-transfer-encoding')?.toLowerCase() === 'base64'
            ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
            : Buffer.from(body),
      })
    } else {
      parts.push({
        type,
        body: decode(body.trim(), partHeaders.get('content-transfer-encoding')?.toLowerCase()),
      })
    }
  }
  walk(headers, raw.slice(split).replace(/^\r?\n\r?\n/, ''))
  const word = (value: string) =>
    value.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decode(text.replace(/_/g, ' '), 'quoted-printable'),
    )
  return {
    headers,
    // whitespace between two encoded words is folding, not text (RFC 2047 §6.2)
    subject: word((headers.get('subject') ?? '').replace(/\?=\s+=\?/g, '?==?')),
    to: headers.get('to') ?? '',
    text: parts.find((p) => p.type.startsWith('text/plain'))?.body ?? '',
    html: parts.find((p) => p.type.startsWith('text/html'))?.body ?? '',
    attachments,
    raw,
  }
}

export interface Inbox {
  url: string
  messages: ParsedMail[]
  /** The first message matching, waiting for it up to `timeoutMs`. */
  waitFor(match: (mail: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>
  close(): Promise<void>
}

/** A real SMTP server in the test's process, on a free loopback port. */
export async function startInbox(t: { teardown(fn: () => unknown): void }): Promise<Inbox> {
  const messages: ParsedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        messages.push(parseMail(Buffer.concat(chunks).toString('utf8')))
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  t.teardown(close)
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const found = messages.find(match)
        if (found) return found
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error('no matching mail arrived')
    },
    close,
  }
}

/** The first link of a mail's text part that contains `path`. */
export function linkIn(mail: ParsedMail, path: string): URL {
  const match = (mail.text ?? '').match(new RegExp(`https?://\\S*${path.replace(/[/?]/g, '\\$&')}\\S*`))
  if (!match) throw new Error(`no link to ${path} in: ${mail.text}`)
  return new URL(match[0])
}
