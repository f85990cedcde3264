import { Agent, type IncomingHttpHeaders, request } from 'node:http'
import { parse } from 'node-html-parser'

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** From the first byte sent to the last byte of the answer. */
  ms: number
  /** performance.now() when the request was sent, and when the answer's last byte was read. */
  start: number
  end: number
}

/**
 * One family's browser on loopback: its own keep-alive socket, its cookies, its client address
 * (sent as X-Forwarded-For to a server that trusts the load generator as its proxy).
 */
export class FamilyClient {
  readonly cookies = new Map<string, string>()
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })
  private readonly port: number
  private readonly host: string
  private readonly address: string
  private readonly timeoutMs: number

  /** `timeoutMs`: how long a request may go unanswered (a year's invoices issued take longer than a page). */
  constructor(port: number, host: string, address: string, timeoutMs = 30_000) {
    this.port = port
    this.host = host
    this.address = address
    this.timeoutMs = timeoutMs
  }

  close(): void {
    this.agent.destroy()
  }

  /**
   * One request; a body given as parts is written part after part (a shared file buffer is sent
   * as it is, never copied), at the pace the socket takes it.
   */
  send(
    method: string,
    path: string,
    body?: Buffer | string | readonly Buffer[],
    contentType?: string,
  ): Promise<Reply> {
    const headers: Record<string, string | number> = {
      host: this.host,
      'x-forwarded-for': this.address,
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    }
    const parts = body === undefined ? [] : Array.isArray(body) ? body : [body as Buffer | string]
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/x-www-form-urlencoded'
      headers['content-length'] = parts.reduce((sum, part) => sum + Buffer.byteLength(part), 0)
    }
    const start = performance.now()
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair] = c.split(';')
              const eq = pair!.indexOf('=')
              const name = pair!.slice(0, eq)
              const value = pair!.slice(eq + 1)
              if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name)
              else this.cookies.set(name, value)
            }
            const end = performance.now()
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: end - start,
              start,
              end,
            })
          })
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)))
      req.on('error', reject)
      for (const part of parts) req.write(part)
      req.end()
    })
  }

  get(path: string): Promise<Reply> {
    return this.send('GET', path)
  }

  post(path: string, fields: Record<string, string>): Promise<Reply> {
    return this.send('POST', path, new URLSearchParams(fields).toString())
  }
}

/** The `_csrf` of the first form of a page posting to `action` (or of any form). */
export function csrfOf(body: string, action?: string): string {
  const page = parse(body)
  const input = page.querySelector(
    action ? `form[action="${action}"] input[name="_csrf"]` : 'input[name="_csrf"]',
  )
  const token = input?.getAttribute('value')
  if (!token) throw new Error(`no CSRF token${action ? ` for ${action}` : ''}`)
  return token
}

/** What a browser posts for the re-enrolment form: its inputs, inside it or joined to it by `form=`. */
export function wizardFields(body: string): Record<string, string> {
  const page = parse(body)
  const form = page.querySelector('form#reenrolment-form')
  if (!form) throw new Error('no re-enrolment form')
  const values: Record<string, string> = {}
  for (const input of [
    ...form.querySelectorAll('input[name]'),
    ...page.querySelectorAll('[form="reenrolment-form"][name]'),
  ]) {
    const tag = input.tagName.toLowerCase()
    const name = input.getAttribute('name')!
    if (tag === 'select') values[name] = input.querySelector('option[selected]')?.getAttribute('value') ?? ''
    else if (tag === 'textarea') values[name] = input.text
    else if (tag === 'input') {
      const type = input.getAttribute('type') ?? 'text'
      if ((type === 'radio' || type === 'checkbox') && !input.hasAttribute('checked')) continue
      values[name] = input.getAttribute('value') ?? ''
    }
  }
  return values
}

export interface MultipartFile {
  name: string
  fileName: string
  contentType: string
  content: Buffer
}

/**
 * A multipart body with the fields in order and the file last, as a browser sends a form, in
 * parts: the fields and the file's headers, the file's content itself (not copied), the end.
 */
export function multipartParts(fields: Record<string, string>, file: MultipartFile) {
  const boundary = `----tuttibench${Math.random().toString(16).slice(2)}`
  let head = ''
  for (const [name, value] of Object.entries(fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.fileName}"\r\nContent-Type: ${file.contentType}\r\n\r\n`
  const parts = [Buffer.from(head), file.content, Buffer.from(`\r\n--${boundary}--\r\n`)]
  return { parts, contentType: `multipart/form-data; boundary=${boundary}` }
}

/** The same body in one buffer. */
export function multipart(fields: Record<string, string>, file: MultipartFile) {
  const { parts, contentType } = multipartParts(fields, file)
  return { body: Buffer.concat(parts), contentType }
}

/** A valid PDF of exactly `size` bytes. */
export function pdfOf(size: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n')
  const tail = Buffer.from('\n%%EOF\n')
  return Buffer.concat([head, Buffer.alloc(size - head.length - tail.length, 0x20), tail])
}
