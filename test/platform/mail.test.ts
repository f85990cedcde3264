import { type AddressInfo, createServer, type Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { MailStatus, OutboxMail } from '../../src/platform/mail/entities.ts'
import { queueMail } from '../../src/platform/mail/outbox.ts'
import { MailWorker, maxAttempts, retryDelay } from '../../src/platform/mail/worker.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../src/platform/tenancy/tenant-config.ts'
import { build } from '../helpers/build.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

interface Received {
  envelopeTo: string[]
  headers: Record<string, string>
  text: string
  html: string
}

/** RFC 2047 words, as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(
      /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g,
      (_whole, _charset: string, encoding: string, data: string) =>
        encoding.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64').toString('utf8')
          : decodeQuotedPrintable(data.replaceAll('_', ' ')),
    )
}

function decodeQuotedPrintable(value: string): string {
  const bytes: number[] = []
  const source = value.replace(/=\r?\n/g, '')
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '=' && /^[0-9A-F]{2}$/i.test(source.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(source.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(...Buffer.from(source[i]!, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

function parseEntity(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n')
  const headers: Record<string, string> = {}
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim())
  }
  return { headers, body: raw.slice(split + 4) }
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = headers['content-transfer-encoding']?.toLowerCase()
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8')
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body)
  return body
}

/** Just enough MIME to read what nodemailer writes: headers, then a text and an HTML alternative. */
function parseMessage(raw: string, envelopeTo: string[]): Received {
  const { headers, body } = parseEntity(raw)
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1]
  const parts = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((part) => parseEntity(part.replace(/^\r\n/, '')))
    : [{ headers, body }]
  const part = (type: string) => {
    const found = parts.find((p) => p.headers['content-type']?.startsWith(type))
    return found ? decodeBody(found.headers, found.body).replaceAll('\r\n', '\n') : ''
  }
  return { envelopeTo, headers, text: part('text/plain'), html: part('text/html') }
}

/** A real SMTP server in this process, listening on 127.0.0.1. */
async function smtpServer(
  t: Teardown,
  options: { port?: number; delayMs?: number } & SMTPServerOptions = {},
) {
  const { port: wanted = 0, delayMs = 0, ...serverOptions } = options
  const messages: Received[] = []
  let receiving = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onData(stream, session, callback) {
      receiving += 1
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address)
        setTimeout(() => {
          messages.push(parseMessage(Buffer.concat(chunks).toString('utf8'), to))
          callback()
        }, delayMs)
      })
    },
    ...serverOptions,
  })
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(wanted, '127.0.0.1', () => resolve())
  })
  const port = (server.server.address() as AddressInfo).port
  let open = true
  const close = () =>
    new Promise<void>((resolve) => {
      if (!open) return resolve()
      open = false
      server.close(() => resolve())
    })
  t.teardown(close)
  return { url: `smtp://127.0.0.1:${port}`, port, messages, close, receiving: () => receiving }
}

/** A port nothing listens on: an SMTP server that is down. */
async function downPort(t: Teardown): Promise<number> {
  const server = await smtpServer(t)
  await server.close()
  return server.port
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

const resetData = {
  displayName: 'Zoé Martin',
  identifiant: 'zoe.martin',
  link: 'http://demo.localhost:3000/mot-de-passe/nouveau?jeton=abc',
  expiresAt: '22/11/2026 à 14:30',
}

function tenantEm(app: FastifyInstance, tenant: TenantConfig) {
  return app.orm.em.fork({ schema: schemaFor(tenant.slug) })
}

async function queue(app: FastifyInstance, tenant: TenantConfig, count = 1, to = 'famille@example.fr') {
  const em = tenantEm(app, tenant)
  const mails = Array.from({ length: count }, () =>
    queueMail(em, tenant, 'fr', { to, template: 'password-reset', data: resetData }),
  )
  await em.flush()
  return mails
}

function stored(app: FastifyInstance, tenant: TenantConfig, uuid: string) {
  return tenantEm(app, tenant).findOneOrFail(OutboxMail, { uuid })
}

/** The worker marks a mail after the server took it, and commits after that: wait for the commit. */
async function waitForStatus(app: FastifyInstance, tenant: TenantConfig, uuid: string, status: string) {
  await waitFor(`a ${status} mail`, async () => (await stored(app, tenant, uuid)).status === status)
  return stored(app, tenant, uuid)
}

/** Makes a waiting mail due now, instead of waiting minutes for its back-off. */
async function makeDue(app: FastifyInstance, tenant: TenantConfig, uuid: string) {
  await tenantEm(app, tenant).nativeUpdate(
    OutboxMail,
    { uuid },
    { nextAttemptAt: new Date(Date.now() - 1000) },
  )
}

t.test('retries wait 1 minute, then twice as long each time, at most an hour', async (t) => {
  t.same(
    [1, 2, 3, 4, 5, 6, 7, 8].map(retryDelay),
    [1, 2, 4, 8, 16, 32, 60, 60].map((m) => m * 60_000),
  )
  t.equal(maxAttempts, 8)
})

t.test(
  'a queued mail goes out once its transaction commits, from the tenant, in French, with a stable Message-ID',
  async (t) => {
    const smtp = await smtpServer(t)
    const { app, tenants } = await build(t, {
      env: { SMTP_URL: smtp.url },
      tenants: [{ contact: { email: 'accueil@conservatoire.example.fr', phone: '04 78 35 00 00' } }],
    })
    const tenant = tenants[0]!
    // the flush commits the mail and wakes the worker: no sweep (5 s) is waited for
    const [mail] = await queue(app, tenant)
    await waitFor('the mail', () => smtp.messages.length === 1, 2_000)

    const received = smtp.messages[0]!
    t.same(received.envelopeTo, ['famille@example.fr'])
    t.equal(received.headers.subject, `[${tenant.name}] Réinitialisation de votre mot de passe`)
    t.match(received.headers.from, new RegExp(`^"?${tenant.name}"? <no-reply@localhost>$`))
    t.equal(received.headers['reply-to'], 'accueil@conservatoire.example.fr')
    t.equal(received.headers['message-id'], `<${mail!.uuid}@localhost>`)
    t.equal(received.headers['auto-submitted'], 'auto-generated')
    t.match(received.text, 'Bonjour Zoé Martin,')
    t.match(received.text, `\n${resetData.link}\n`)
    t.match(received.text, 'valable 30 minutes, jusqu’au 22/11/2026 à 14:30')
    t.match(received.text, 'Votre mot de passe actuel continue de fonctionner')
    t.match(received.text, `-- \n${tenant.name}\naccueil@conservatoire.example.fr · 04 78 35 00 00`)
    t.match(received.html, `<a href="${resetData.link}"`)
    t.match(received.html, '04 78 35 00 00')

    const row = await waitForStatus(app, tenant, mail!.uuid, MailStatus.sent)
    t.equal(row.attempts, 1)
    t.ok(row.sentAt)
    t.equal(row.lastError, null)
    app.mail.worker!.kick(tenant.slug)
    await sleep(200)
    t.equal(smtp.messages.length, 1, 'sent once, even when kicked again')
  },
)

t.test('a mail queued in a transaction goes out when it commits; a rolled-back one never does', async (t) => {
  const smtp = await smtpServer(t)
  const { app, tenants } = await build(t, { env: { SMTP_URL: smtp.url } })
  const tenant = tenants[0]!
  const em = tenantEm(app, tenant)
  const mail = (to: string) => ({ to, template: 'password-reset', data: resetData })
  await t.rejects(
    em.fork().transactional(async (tx) => {
      queueMail(tx, tenant, 'fr', mail('rolled-back@example.fr'))
      await tx.flush()
      throw new Error('the action failed')
    }),
  )
  await em.fork().transactional(async (tx) => {
    queueMail(tx, tenant, 'fr', mail('committed@example.fr'))
  })
  await waitFor('the committed mail', () => smtp.messages.length === 1, 2_000)
  await sleep(200)
  t.same(
    smtp.messages.map((m) => m.envelopeTo),
    [['committed@example.fr']],
  )
  t.equal(await em.fork().count(OutboxMail, { recipient: 'rolled-back@example.fr' }), 0)
})

t.test('a mail nobody kicked goes out at the next sweep', async (t) => {
  const smtp = await smtpServer(t)
  const { app, tenants } = await build(t)
  const worker = new MailWorker({
    orm: app.orm,
    registry: app.registry,
    smtpUrl: smtp.url,
    log: app.log,
    sweepMs: 50,
  })
  worker.start()
  t.teardown(() => worker.stop())
  await queue(app, tenants[0]!)
  await waitFor('the mail', () => smtp.messages.length === 1)
  t.pass('delivered without a kick')
})

t.test('a tenant whose outbox is missing does not hold back the others’ mail', async (t) => {
  const smtp = await smtpServer(t)
  const { app, tenants } = await build(t, { tenants: [{}, {}] })
  await app.orm.em.fork().execute(`drop table "${schemaFor(tenants[0]!.slug)}"."outbox_mail" cascade`)
  const worker = new MailWorker({
    orm: app.orm,
    registry: app.registry,
    smtpUrl: smtp.url,
    log: app.log,
    sweepMs: 50,
  })
  worker.start()
  t.teardown(() => worker.stop())
  const [mail] = await queue(app, tenants[1]!)
  await waitForStatus(app, tenants[1]!, mail!.uuid, MailStatus.sent)
  t.equal(smtp.messages.length, 1)
})

t.test('SMTP down: the mail waits, then goes out once the server is back', async (t) => {
  const port = await downPort(t)
  const { app, tenants } = await build(t, { env: { SMTP_URL: `smtp://127.0.0.1:${port}` } })
  const tenant = tenants[0]!
  const [mail] = await queue(app, tenant)
  app.mail.worker!.kick(tenant.slug)
  await waitFor('a failed attempt', async () => (await stored(app, tenant, mail!.uuid)).attempts === 1)

  const waiting = await stored(app, tenant, mail!.uuid)
  t.equal(waiting.status, MailStatus.pending)
  t.match(waiting.lastError, /ECONNREFUSED|connect/i)
  const wait = waiting.nextAttemptAt.getTime() - Date.now()
  t.ok(wait > 50_000 && wait <= 60_000, `next attempt in about a minute (${wait} ms)`)

  const smtp = await smtpServer(t, { port })
  await makeDue(app, tenant, mail!.uuid)
  app.mail.worker!.kick(tenant.slug)
  await waitFor('the mail', () => smtp.messages.length === 1)
  const sent = await waitForStatus(app, tenant, mail!.uuid, MailStatus.sent)
  t.equal(sent.attempts, 2)
  t.equal(sent.lastError, null)
  await sleep(200)
  t.equal(smtp.messages.length, 1)
})

t.test(`after ${maxAttempts} failed attempts a mail is failed and left alone`, async (t) => {
  const port = await downPort(t)
  const { app, tenants } = await build(t, { env: { SMTP_URL: `smtp://127.0.0.1:${port}` } })
  const tenant = tenants[0]!
  // the first attempt follows the commit at once; each next one is made due
  const [mail] = await queue(app, tenant)
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      await makeDue(app, tenant, mail!.uuid)
      app.mail.worker!.kick(tenant.slug)
    }
    await waitFor(
      `attempt ${attempt}`,
      async () => (await stored(app, tenant, mail!.uuid)).attempts === attempt,
    )
    const row = await stored(app, tenant, mail!.uuid)
    if (attempt < maxAttempts) {
      t.equal(row.status, MailStatus.pending)
      const wait = row.nextAttemptAt.getTime() - Date.now()
      t.ok(Math.abs(wait - retryDelay(attempt)) < 10_000, `attempt ${attempt}: back-off ${wait} ms`)
    }
  }
  const failed = await stored(app, tenant, mail!.uuid)
  t.equal(failed.status, MailStatus.failed)
  t.ok(failed.lastError)

  await makeDue(app, tenant, mail!.uuid)
  app.mail.worker!.kick(tenant.slug)
  await sleep(200)
  t.equal((await stored(app, tenant, mail!.uuid)).attempts, maxAttempts, 'never tried again')
})

t.test(
  'a recipient the server refuses for good is failed at once, its address kept out of the logs',
  async (t) => {
    const smtp = await smtpServer(t, {
      onRcptTo(address, _session, callback) {
        if (address.address !== 'inconnu@example.fr') return callback()
        // as Postfix answers: the refusal names the recipient
        const error = Object.assign(new Error('5.1.1 <inconnu@example.fr>: Recipient address rejected'), {
          responseCode: 550,
        })
        callback(error)
      },
    })
    const logStream = new PassThrough()
    const logs: string[] = []
    logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')))
    const { app, tenants } = await build(t, { env: { SMTP_URL: smtp.url, LOG_LEVEL: 'info' }, logStream })
    const tenant = tenants[0]!
    const [refused] = await queue(app, tenant, 1, 'inconnu@example.fr')
    const [accepted] = await queue(app, tenant)
    app.mail.worker!.kick(tenant.slug)
    const row = await waitForStatus(app, tenant, refused!.uuid, MailStatus.failed)
    t.equal(row.attempts, 1)
    t.match(row.lastError, /550 5\.1\.1 <inconnu@example\.fr>/, 'the outbox page shows the whole answer')
    await waitForStatus(app, tenant, accepted!.uuid, MailStatus.sent)
    t.equal(smtp.messages.length, 1)
    const notSent = logs
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((entry) => entry.msg === 'mail not sent')
    t.match(notSent, {
      tenant: tenant.slug,
      mail: refused!.uuid,
      status: 'failed',
      reason: /550 5\.1\.1 <…>/,
    })
    t.notMatch(logs.join(''), 'inconnu@example.fr')
  },
)

t.test('two workers on one app send each of 20 mails exactly once', async (t) => {
  const smtp = await smtpServer(t, { delayMs: 5 })
  const { app, tenants } = await build(t)
  const tenant = tenants[0]!
  const workers = [1, 2].map(
    () =>
      new MailWorker({ orm: app.orm, registry: app.registry, smtpUrl: smtp.url, log: app.log, batchSize: 3 }),
  )
  for (const worker of workers) {
    worker.start()
    t.teardown(() => worker.stop())
  }
  const mails = await queue(app, tenant, 20)
  for (const worker of workers) worker.kick(tenant.slug)
  for (const mail of mails) await waitForStatus(app, tenant, mail.uuid, MailStatus.sent)
  await sleep(300)
  t.equal(smtp.messages.length, 20)
  t.same(
    new Set(smtp.messages.map((m) => m.headers['message-id'])),
    new Set(mails.map((m) => `<${m.uuid}@localhost>`)),
  )
  const rows = await tenantEm(app, tenant).find(OutboxMail, {})
  t.ok(rows.every((row) => row.attempts === 1))
})

t.test(
  'two apps on one Postgres send each of 20 mails exactly once',
  { skip: process.env.DATABASE_URL ? false : 'needs DATABASE_URL: PGlite in memory is one database per app' },
  async (t) => {
    const smtp = await smtpServer(t, { delayMs: 5 })
    const { app, tenants, config } = await build(t, { env: { SMTP_URL: smtp.url } })
    const other = await buildApp(config)
    await other.ready()
    try {
      const tenant = tenants[0]!
      const mails = await queue(app, tenant, 20)
      app.mail.worker!.kick(tenant.slug)
      other.mail.worker!.kick(tenant.slug)
      for (const mail of mails) await waitForStatus(app, tenant, mail.uuid, MailStatus.sent)
      await sleep(300)
      t.equal(smtp.messages.length, 20)
      t.same(
        new Set(smtp.messages.map((m) => m.headers['message-id'])),
        new Set(mails.map((m) => `<${m.uuid}@localhost>`)),
      )
    } finally {
      await other.close()
    }
  },
)

t.test('stopping lets the mail being sent finish and be marked sent', async (t) => {
  const smtp = await smtpServer(t, { delayMs: 300 })
  const { app, tenants } = await build(t)
  const tenant = tenants[0]!
  const worker = new MailWorker({ orm: app.orm, registry: app.registry, smtpUrl: smtp.url, log: app.log })
  worker.start()
  const [mail] = await queue(app, tenant)
  worker.kick(tenant.slug)
  await waitFor('the send to start', () => smtp.receiving() === 1)
  await worker.stop()
  t.equal(smtp.messages.length, 1)
  t.equal((await stored(app, tenant, mail!.uuid)).status, MailStatus.sent)
})

t.test(
  'stopping waits a bounded time on a relay that never answers: the mail stays pending, not counted',
  async (t) => {
    const sockets = new Set<Socket>()
    const relay = createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
    t.teardown(() => {
      for (const socket of sockets) socket.destroy()
      relay.close()
    })
    const { app, tenants } = await build(t)
    const tenant = tenants[0]!
    const worker = new MailWorker({
      orm: app.orm,
      registry: app.registry,
      smtpUrl: `smtp://127.0.0.1:${(relay.address() as AddressInfo).port}`,
      log: app.log,
      stopWaitMs: 200,
    })
    worker.start()
    const [mail] = await queue(app, tenant)
    worker.kick(tenant.slug)
    await waitFor('the worker connected to the relay', () => sockets.size === 1)
    const started = Date.now()
    await worker.stop()
    const took = Date.now() - started
    t.ok(took >= 200 && took < 2_000, `stopped after its wait, not the relay's timeouts (${took} ms)`)
    const stayed = await stored(app, tenant, mail!.uuid)
    t.equal(stayed.status, MailStatus.pending)
    t.equal(stayed.attempts, 0, 'the abandoned send is no attempt')
    t.equal(stayed.lastError, null)
  },
)

t.test('the app without SMTP_URL runs no worker: a queued mail stays pending', async (t) => {
  const { app, tenants } = await build(t)
  t.equal(app.mail.worker, undefined)
  const [mail] = await queue(app, tenants[0]!)
  await sleep(50)
  t.equal((await stored(app, tenants[0]!, mail!.uuid)).status, MailStatus.pending)
})
