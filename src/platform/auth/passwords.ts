import { randomBytes } from 'node:crypto'
import { hash, parseOptions, verify } from '@node-rs/argon2'

/**
 * argon2id (the library's default algorithm) at OWASP's first recommended setting: 19 MiB, 2
 * passes, 1 lane. Measured figures and the reasoning are in load-tests/RESULTS.md; a hash made with
 * other parameters is upgraded at the next successful sign-in.
 */
export const argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export function hashPassword(password: string): Promise<string> {
  return hash(password, argon2Params)
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
  } catch {
    return false
  }
}

export function needsRehash(passwordHash: string): boolean {
  try {
    const used = parseOptions(passwordHash)
    return (
      used.memoryCost !== argon2Params.memoryCost ||
      used.timeCost !== argon2Params.timeCost ||
      used.parallelism !== argon2Params.parallelism
    )
  } catch {
    return true
  }
}

let decoy: Promise<string> | undefined

/**
 * Verifies against a hash nobody's password matches, so that an unknown identifiant costs the same
 * time as a wrong password and timing does not tell which identifiants exist.
 */
export async function spendVerifyTime(password: string): Promise<void> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'))
  await verifyPassword(await decoy, password)
}
