import fp from 'fastify-plugin'
import type { Orm } from './orm.ts'

declare module 'fastify' {
  interface FastifyInstance {
    orm: Orm
  }
}

/** Shares the one ORM (and its pool) with every plugin, and closes it last. */
export default fp<{ orm: Orm }>(
  async (app, { orm }) => {
    app.decorate('orm', orm)
    app.addHook('onClose', () => orm.close())
  },
  { name: 'db' },
)
