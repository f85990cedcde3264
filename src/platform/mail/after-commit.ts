import {
  ChangeSetType,
  type EventSubscriber,
  type FlushEventArgs,
  type TransactionEventArgs,
} from '@mikro-orm/core'
import { OutboxMail } from './entities.ts'

/**
 * Wakes the mail worker once a transaction that queued mail has committed, whatever feature queued
 * it: a flush that creates outbox rows, or makes one due now, marks its transaction (or, for a flush's own implicit
 * transaction, its EntityManager), and the commit of a marked one calls `wake` with its schema.
 * A rolled-back transaction wakes nothing; its mails never existed.
 */
export class WakeAfterCommit implements EventSubscriber {
  readonly #marked = new WeakSet<object>()
  readonly #wake: (schema: string) => void

  constructor(wake: (schema: string) => void) {
    this.#wake = wake
  }

  onFlush({ em, uow }: FlushEventArgs): void {
    const now = Date.now()
    const queued = uow.getChangeSets().some(
      (cs) =>
        cs.meta.className === OutboxMail.meta.className &&
        (cs.type === ChangeSetType.CREATE ||
          // a mail put back in the queue for now ("Renvoyer"); the worker's own retries move it later
          (cs.type === ChangeSetType.UPDATE &&
            cs.payload.nextAttemptAt instanceof Date &&
            cs.payload.nextAttemptAt.getTime() <= now)),
    )
    if (queued) this.#marked.add(em.getTransactionContext() ?? em)
  }

  afterTransactionCommit({ em, transaction }: TransactionEventArgs): void {
    const key =
      transaction && this.#marked.has(transaction) ? transaction : this.#marked.has(em) ? em : undefined
    if (!key) return
    this.#marked.delete(key)
    if (em.schema) this.#wake(em.schema)
  }
}
