import { EventEmitter } from 'node:events'
import { createConnection, type Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { UploadSlots } from '../../../src/features/documents/upload-slots.ts'
import { uploadSlots } from '../../../src/features/documents/upload.ts'
import { Family } from '../../../src/features/family/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { documentsTenant } from '../../helpers/documents.ts'
import { createFamily } from '../../helpers/families.ts'
import { importDocument, multipartBody, samples } from '../../helpers/multipart.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check` holds, or fails after `ms` saying what was awaited. */
async function until(what: string, check: () => boolean, ms = 15_000) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`still waiting for ${what}`)
    await sleep(20)
  }
}

/** A family on each of two conservatoires, signed in; the first tenant's family is the one stalling. */
async function setUp(t: Parameters<typeof build>[0], idleMs: number) {
  const logStream = new PassThrough()
  const logs: {
    level: number
    msg?: string
    reqId?: string
    req?: { method: string; url: string }
    res?: { statusCode: number }
  }[] = []
  let partial = ''
  logStream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop()!
    for (const line of lines) if (line) logs.push(JSON.parse(line))
  })
  const built = await build(t, {
    tenants: [documentsTenant, documentsTenant],
    env: { UPLOAD_IDLE_TIMEOUT_MS: String(idleMs), LOG_LEVEL: 'info' },
    logStream,
  })
  /** What the log says of the uploads: the statuses of those answered, the others, any warning. */
  const logged = () => {
    const uploads = new Set(
      logs
        .filter((line) => line.req?.method === 'POST' && line.req.url === '/famille/pieces')
        .map((line) => line.reqId),
    )
    return {
      uploads: logs
        .filter((line) => line.msg === 'request completed' && uploads.has(line.reqId))
        .map((line) => line.res!.statusCode)
        .sort(),
      interrupted: logs.filter((line) => line.msg === 'upload interrupted').length,
      abandoned: logs.filter((line) => line.msg?.startsWith('upload abandoned')).length,
      warnings: logs.filter((line) => line.level >= 40).map((line) => line.msg),
    }
  }
  const browsers: Browser[] = []
  for (const [i, tenant] of built.tenants.entries()) {
    const created = await createFamily(built.app, tenant.slug, 'famille-martin')
    await built.app.orm.em
      .fork({ schema: schemaFor(tenant.slug) })
      .nativeUpdate(Family, { id: created.family.id }, { paymentMode: 'prelevement' })
    const browser = new Browser(built.app, built.host(i))
    await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    browsers.push(browser)
  }
  const address = await built.app.listen({ port: 0, host: '127.0.0.1' })
  const token = html((await browsers[0]!.get('/famille/pieces')).body)
    .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')!
    .getAttribute('value')!
  const { body, contentType } = multipartBody(
    { _csrf: token, document: 'sepa' },
    {
      name: 'file',
      fileName: 'mandat.pdf',
      contentType: 'application/pdf',
      content: samples.pdf(1024 * 1024),
    },
  )
  const sockets: Socket[] = []
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
  })

  /**
   * A raw connection from `from` that sends an upload's headers and the first `sent` bytes of its
   * body (by default, into its file), then nothing more; `response` is all the server wrote before
   * the connection closed.
   */
  const stalledUpload = (from: string, sent = 64 * 1024) => {
    const socket = createConnection({
      port: Number(new URL(address).port),
      host: '127.0.0.1',
      localAddress: from,
    })
    sockets.push(socket)
    socket.write(
      `POST /famille/pieces HTTP/1.1\r\nHost: ${built.host(0)}\r\nCookie: ${browsers[0]!.cookieHeader()}\r\n` +
        `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
    )
    socket.write(body.subarray(0, sent))
    const received: Buffer[] = []
    socket.on('data', (chunk) => received.push(chunk))
    socket.on('error', () => {})
    const response = new Promise<string>((resolve) =>
      socket.on('close', () => resolve(Buffer.concat(received).toString('utf8'))),
    )
    return { socket, response }
  }

  /** What the family of `browser` sees: the answer to its upload, then its table. */
  const familyUploads = async (browser: Browser) => {
    const sent = await importDocument(
      browser,
      '/famille/pieces',
      { document: 'sepa' },
      { fileName: 'mandat signé.pdf', contentType: 'application/pdf', content: samples.pdf() },
    )
    const row = html((await browser.get('/famille/pieces')).body).querySelector('#document-sepa')
    return {
      status: sent.statusCode,
      location: sent.headers.location,
      file: text(row?.querySelectorAll('td')[0]?.text),
      state: text(row?.querySelector('.state')?.text),
    }
  }
  const stored = (i: number) =>
    built.app.orm.em.fork({ schema: schemaFor(built.tenants[i]!.slug) }).count(StoredFile)
  return { ...built, browsers, stalledUpload, familyUploads, stored, logged }
}

const uploaded = {
  status: 303,
  location: '/famille/pieces?fait=envoye',
  file: 'mandat signé.pdf',
  state: 'En attente de validation',
}

t.test(
  'uploads that stop mid-file are abandoned after the idle timeout, and the next one goes through',
  async (t) => {
    // long enough for the family's upload to queue behind the stalled ones on a loaded machine
    const idleMs = 3000
    const { browsers, stalledUpload, familyUploads, stored, logged } = await setUp(t, idleMs)
    // the stalled uploads' idle timeout runs from their start: counting from here holds on a loaded machine
    const started = Date.now()
    // four clients, four addresses: every slot of the process is taken
    const stalled = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((from) => stalledUpload(from))
    await until('the four stalled uploads to hold the slots', () => uploadSlots.busy === 4)

    // a family of another conservatoire waits its turn...
    const other = familyUploads(browsers[1]!)
    await until('the family’s upload to wait for a slot', () => uploadSlots.waiting === 1)
    // ...and gets one as soon as the stalled uploads are given up
    const outcome = await Promise.race([other, sleep(idleMs + 10_000).then(() => 'still waiting')])
    t.same(outcome, uploaded, 'the upload is stored and shown in the table')
    t.ok(Date.now() - started >= idleMs, 'once the stalled uploads were given up')

    for (const { response } of stalled) {
      const answer = await response
      t.match(answer, /^HTTP\/1\.1 400 /, 'the stalled upload is answered, then its connection closed')
      t.match(answer, /connection: close/i)
      t.match(
        html(answer.slice(answer.indexOf('\r\n\r\n'))).querySelector('#file-error')?.text,
        'n’a pas été reçu en entier',
        'with the page saying to send the file again',
      )
    }
    t.equal(await stored(0), 0, 'nothing of the stalled uploads is stored')
    t.equal(await stored(1), 1)
    await until('every slot given back', () => uploadSlots.busy === 0 && uploadSlots.waiting === 0)
    t.same(
      logged(),
      { uploads: [303, 400, 400, 400, 400], interrupted: 4, abandoned: 0, warnings: [] },
      'the log says what each got',
    )
  },
)

t.test('uploads whose clients leave while they wait never keep a slot', async (t) => {
  // no stalled upload is given up during this test: its clients leave
  const { browsers, stalledUpload, familyUploads, stored, logged } = await setUp(t, 60_000)
  const holding = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((from) => stalledUpload(from))
  await until('the four stalled uploads to hold the slots', () => uploadSlots.busy === 4)
  // three have sent their form's fields only, two the start of their file too: their connection is
  // paused, the server reading nothing of it until their turn
  const queued = [
    ...['127.0.0.6', '127.0.0.7', '127.0.0.8'].map((from) => stalledUpload(from, 400)),
    ...['127.0.0.9', '127.0.0.10'].map((from) => stalledUpload(from)),
  ]
  await until('five more uploads to wait', () => uploadSlots.waiting === 5)

  for (const { socket } of queued) socket.destroy()
  await until('the uploads whose clients left to leave the queue', () => uploadSlots.waiting === 2)
  t.equal(uploadSlots.busy, 4, 'only the four stalled uploads hold slots')

  // had the clients that left kept the slots given back now, waiting for a body that will never
  // come, every later upload would wait for good
  for (const { socket, response } of holding) {
    socket.destroy()
    await response
  }
  const outcome = await Promise.race([familyUploads(browsers[0]!), sleep(10_000).then(() => 'still waiting')])
  t.same(outcome, uploaded, 'a later upload goes through')
  t.same(await familyUploads(browsers[1]!), uploaded, 'and another, on another conservatoire')
  await until('every slot given back', () => uploadSlots.busy === 0 && uploadSlots.waiting === 0)
  t.equal(await stored(0), 1)
  t.equal(await stored(1), 1)
  // the three that left while waiting never ran; the two paused ones ran to find their client
  // gone, as did the four stalled ones; nobody was there to read an answer
  t.same(logged(), { uploads: [303, 303], interrupted: 6, abandoned: 3, warnings: [] })
})

t.test('one client opening many stalled uploads holds two slots, and others upload meanwhile', async (t) => {
  // no stalled upload is given up during this test: its client leaves
  const { app, browsers, stalledUpload, familyUploads, tenants } = await setUp(t, 60_000)
  const stalled = Array.from({ length: 6 }, () => stalledUpload('127.0.0.2'))
  await until('the client to hold its two slots', () => uploadSlots.busy === 2 && uploadSlots.waiting === 4)

  // while the stalled uploads hold their slots, families of both conservatoires upload
  t.same(await familyUploads(browsers[1]!), uploaded, 'another conservatoire’s family')
  t.same(await familyUploads(browsers[0]!), uploaded, 'the stalling family itself, from another address')
  t.equal(uploadSlots.busy, 2, 'the stalled uploads still hold their two slots')

  // the client gives up: holding or waiting, its uploads give back what they took, and store nothing
  for (const { socket } of stalled) socket.destroy()
  await until('every slot given back', () => uploadSlots.busy === 0 && uploadSlots.waiting === 0)
  const submissions = await app.orm.em
    .fork({ schema: schemaFor(tenants[0]!.slug) })
    .find(DocumentSubmission, {}, { populate: ['file'] })
  t.same(
    submissions.map((s) => s.file.fileName),
    ['mandat signé.pdf'],
    'only the family’s upload is stored',
  )
})

t.test('the slot given back goes to the client holding the fewest, then to the earliest', async (t) => {
  const slots = new UploadSlots(2, 2)
  const socket = () => new EventEmitter() as unknown as Socket
  const order: string[] = []
  const releases = new Map<string, () => void>()
  const upload = (client: string, name: string, connection = socket()) =>
    slots.run(client, connection, () => {
      order.push(name)
      return new Promise<string>((resolve) => releases.set(name, () => resolve(name)))
    })

  const running = [upload('a', 'a1'), upload('a', 'a2'), upload('a', 'a3'), upload('a', 'a4')]
  const leaving = socket()
  running.push(upload('c', 'c1', leaving), upload('b', 'b1'))
  await sleep(0)
  t.same(order, ['a1', 'a2'], 'a client holds at most its share')
  t.equal(slots.waiting, 4)
  leaving.emit('close')
  t.equal(slots.waiting, 3, 'a request whose client left leaves the queue')

  releases.get('a1')!()
  await sleep(0)
  t.same(order, ['a1', 'a2', 'b1'], 'b holds none: it goes before a’s earlier requests')
  releases.get('a2')!()
  releases.get('b1')!()
  await sleep(0)
  t.same(order, ['a1', 'a2', 'b1', 'a3', 'a4'])
  releases.get('a3')!()
  releases.get('a4')!()
  const results = await Promise.all(running)
  t.same(results, ['a1', 'a2', 'a3', 'a4', undefined, 'b1'], 'the upload whose client left never ran')
  t.equal(slots.busy, 0)
})
