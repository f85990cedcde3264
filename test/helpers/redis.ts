import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/** The Redis server the tests share (never flushed: each test counts under its own tenants). */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const target = new URL(redisUrl)
const port = Number(target.port || 6379)

async function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: target.hostname, port, timeout: 1_000 })
    socket.once('connect', () => {
      socket.end()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/** Test options that skip a Redis test, saying why, where no Redis answers. */
export const needsRedis = {
  skip: (await reachable())
    ? false
    : `no Redis at ${redisUrl} (apt-get install -y redis-server, or set REDIS_URL)`,
}

/**
 * A TCP proxy in front of the test Redis, so a test can make Redis go away (`cut`): the proxy
 * stops accepting and drops every connection, as a Redis that died would; `resume` brings it
 * back on the same port.
 */
export async function redisProxy(): Promise<{ url: string; cut(): Promise<void>; resume(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port })
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
      socket.on('close', () => sockets.delete(socket))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  let open = true
  const cut = async () => {
    if (!open) return
    open = false
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  const { port: proxyPort } = server.address() as AddressInfo
  const resume = async () => {
    await new Promise<void>((resolve) => server.listen(proxyPort, '127.0.0.1', resolve))
    open = true
  }
  return { url: `redis://127.0.0.1:${proxyPort}`, cut, resume }
}
