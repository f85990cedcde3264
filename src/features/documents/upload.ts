import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import type { MultipartFile } from '@fastify/multipart'
import { fileTypeFromBuffer } from 'file-type'
import type { DocumentType, RequiredDocument } from '../../platform/tenancy/tenant-config-types.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { contentTypes, megabyte, type Upload } from './service.ts'
import { UploadSlots } from './upload-slots.ts'

/**
 * The uploads read and stored at once in this process, whatever the number of families uploading
 * together; one client address holds at most two of them, on every conservatoire together, since
 * the slots are the process's memory.
 */
export const uploadSlots = new UploadSlots(4, 2)

/** The body of an upload sent nothing for the idle timeout while it was being read. */
export class BodyStalled extends Error {
  constructor() {
    super('upload body stalled')
  }
}

/**
 * Watches a request's body while it is read: when no byte arrives for `idleMs` while the server
 * waits for one, what is being read is destroyed with `BodyStalled`: the file (so the form can
 * still be answered, the request's end left unread) or, between parts, the request itself. Watching
 * sets the body flowing: start it in the same tick as the parser that reads it.
 */
export function watchBody(raw: IncomingMessage, idleMs: number) {
  let reading: Readable = raw
  const expire = () => {
    // paused, the server is the one not reading (back-pressure): the client is not to blame
    if (raw.readableFlowing === false) timer.refresh()
    else (reading.readableEnded ? raw : reading).destroy(new BodyStalled())
  }
  const timer = setTimeout(expire, idleMs)
  const alive = () => timer.refresh()
  const stop = () => {
    clearTimeout(timer)
    raw.off('data', alive)
    raw.off('end', stop)
  }
  raw.on('data', alive)
  raw.once('end', stop)
  return {
    /** The stream to destroy if the body stalls from now on. */
    reading(stream: Readable) {
      reading = stream
    },
    stop,
  }
}

const typeOfExtension: Record<string, DocumentType> = { pdf: 'pdf', jpg: 'jpeg', png: 'png' }

const typeNames: Record<DocumentType, string> = { pdf: 'PDF', jpeg: 'JPEG', png: 'PNG' }

/** "PDF, JPEG ou PNG" in the family's language. */
export function acceptedTypes(document: RequiredDocument, t: Translate): string {
  const names = document.accept.map((type) => typeNames[type])
  return names.length > 1
    ? t('documents.typesList', { list: names.slice(0, -1).join(', '), last: names.at(-1)! })
    : names[0]!
}

/**
 * Reads a file up to `max` bytes into one buffer of that size, copied once; past it, the rest is
 * read and dropped, never kept.
 */
async function readLimited(
  stream: Readable & { truncated?: boolean },
  max: number,
): Promise<Buffer | 'tooLarge'> {
  let content: Buffer | undefined
  let size = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size + chunk.length <= max) {
      // allocated at the first byte, so an empty or refused form costs nothing
      content ??= Buffer.allocUnsafeSlow(max)
      chunk.copy(content, size)
    }
    size += chunk.length
  }
  if (size > max || stream.truncated) return 'tooLarge'
  return content ? content.subarray(0, size) : Buffer.alloc(0)
}

/** A file name as families see it again: no folders, no control characters, not endless. */
function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).at(-1) ?? ''
  const clean = base.replace(/[\p{Cc}\p{Cf}]/gu, '').trim()
  return (clean || 'document').slice(0, 200)
}

/**
 * Reads the uploaded file of a multipart form and checks it against the document it is for: not
 * empty, within the document's size, of an accepted type as its first bytes say (a name ending in
 * .pdf proves nothing). Either the file, or a French message for the `file` field.
 */
export async function readUpload(
  part: MultipartFile,
  document: RequiredDocument,
  t: Translate,
): Promise<{ upload: Upload } | { error: string }> {
  const content = await readLimited(part.file, document.maxSizeMb * megabyte)
  if (content === 'tooLarge')
    return { error: t('documents.error.tooLarge', { max: String(document.maxSizeMb).replace('.', ',') }) }
  if (content.length === 0) return { error: t('documents.error.empty') }
  const detected = await fileTypeFromBuffer(content)
  const type = detected && typeOfExtension[detected.ext]
  if (!type || !document.accept.includes(type))
    return { error: t('documents.error.type', { types: acceptedTypes(document, t) }) }
  return { upload: { fileName: cleanFileName(part.filename), content, contentType: contentTypes[type] } }
}
