import type { Socket } from 'node:net'

interface Waiter {
  client: string
  start(): void
}

/**
 * The uploads a process reads and stores at once: at most `size`, and at most `perClient` for one
 * client, so that no client holds them all whatever it sends. The others wait before a byte of their
 * body is read, their connection paused (TCP back-pressure), so memory holds at most `size` files.
 * A slot is given back however the upload ends, and a request whose connection closes while it
 * waits never takes one (a paused connection is only seen closed once read, at its turn).
 */
export class UploadSlots {
  readonly size: number
  readonly perClient: number
  #busy = 0
  #heldBy = new Map<string, number>()
  #waiting: Waiter[] = []

  constructor(size: number, perClient: number) {
    this.size = size
    this.perClient = perClient
  }

  /** Slots held now. */
  get busy() {
    return this.#busy
  }

  /** Requests waiting for a slot now. */
  get waiting() {
    return this.#waiting.length
  }

  /**
   * Runs `task` in a slot of `client`'s once one is free, and gives the slot back when it settles.
   * `undefined`, and `task` never runs, when the connection closes before a slot is free.
   */
  async run<T>(client: string, socket: Socket, task: () => Promise<T>): Promise<T | undefined> {
    if (socket.destroyed || !(await this.#take(client, socket))) return undefined
    try {
      // a connection may close between the slot's release and this request's turn
      return socket.destroyed ? undefined : await task()
    } finally {
      this.#giveBack(client)
    }
  }

  #heldCount(client: string) {
    return this.#heldBy.get(client) ?? 0
  }

  #hold(client: string) {
    this.#busy++
    this.#heldBy.set(client, this.#heldCount(client) + 1)
  }

  #take(client: string, socket: Socket): boolean | Promise<boolean> {
    // whoever waits is blocked by its own client's share or by a full house: a free slot within
    // this client's share is this request's
    if (this.#busy < this.size && this.#heldCount(client) < this.perClient) {
      this.#hold(client)
      return true
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        client,
        start: () => {
          socket.off('close', leave)
          this.#hold(client)
          resolve(true)
        },
      }
      const leave = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1)
        resolve(false)
      }
      socket.once('close', leave)
      this.#waiting.push(waiter)
    })
  }

  #giveBack(client: string) {
    this.#busy--
    const held = this.#heldCount(client) - 1
    if (held > 0) this.#heldBy.set(client, held)
    else this.#heldBy.delete(client)
    // the waiter whose client holds the fewest slots goes first, then the earliest: a client with
    // many requests waiting cannot keep the others behind its own
    while (this.#busy < this.size) {
      let next = -1
      for (let i = 0; i < this.#waiting.length; i++) {
        const held = this.#heldCount(this.#waiting[i]!.client)
        if (held < this.perClient && (next < 0 || held < this.#heldCount(this.#waiting[next]!.client)))
          next = i
      }
      if (next < 0) return
      this.#waiting.splice(next, 1)[0]!.start()
    }
  }
}
