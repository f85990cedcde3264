import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/** An IBAN as the database keeps it: AES-256-GCM ciphertext, its nonce and its tag, in base64. */
export interface SealedIban {
  ibanCiphertext: string
  ibanIv: string
  ibanTag: string
}

/**
 * Encrypts an IBAN under BILLING_KEY. A fresh 12-byte nonce each time, so two mandates on one
 * account do not show it; the tag makes any change to the stored bytes fail on opening.
 */
export function sealIban(key: Buffer, iban: string): SealedIban {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const ciphertext = Buffer.concat([cipher.update(iban, 'utf8'), cipher.final()])
  return {
    ibanCiphertext: ciphertext.toString('base64'),
    ibanIv: iv.toString('base64'),
    ibanTag: cipher.getAuthTag().toString('base64'),
  }
}

/** The IBAN back, for the debit file only; a wrong key or altered bytes throw. */
export function openIban(key: Buffer, sealed: SealedIban): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.ibanIv, 'base64'))
  decipher.setAuthTag(Buffer.from(sealed.ibanTag, 'base64'))
  return Buffer.concat([
    decipher.update(Buffer.from(sealed.ibanCiphertext, 'base64')),
    decipher.final(),
  ]).toString('utf8')
}

/** A debit file (it lists IBANs) sealed the same way, as one string: nonce, tag and ciphertext. */
export function sealText(key: Buffer, text: string): string {
  const { ibanCiphertext, ibanIv, ibanTag } = sealIban(key, text)
  return `${ibanIv}.${ibanTag}.${ibanCiphertext}`
}

export function openText(key: Buffer, sealed: string): string {
  const [ibanIv = '', ibanTag = '', ibanCiphertext = ''] = sealed.split('.')
  return openIban(key, { ibanIv, ibanTag, ibanCiphertext })
}
