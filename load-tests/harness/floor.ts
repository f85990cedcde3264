/**
 * The floor of the pages benchmark (DESIGN.md §9: "bare Fastify + one schema-qualified query + one
 * nunjucks render"): what any page must cost at the least, measured in the same run as the pages.
 * Spawned by pages.ts as its own process, like the production server, so that its CPU is read from
 * /proc the same way:
 *
 *   DATABASE_URL=postgres://… FLOOR_SCHEMA=tenant_limonest FLOOR_IDENTIFIANT=demo-famille \
 *   HOST=127.0.0.1 PORT=3001 node load-tests/harness/floor.ts
 *
 * One route, `GET /`: one statement with a bound parameter on one `pg` pool of the app's size, one
 * render of a small page template compiled once with autoescape on, text/html. Fastify's logger is
 * off: the floor is the cost of a page with nothing around it.
 */
import Fastify from 'fastify'
import nunjucks from 'nunjucks'
import pg from 'pg'

const { DATABASE_URL, FLOOR_SCHEMA = 'tenant_limonest', FLOOR_IDENTIFIANT = 'demo-famille' } = process.env
if (!DATABASE_URL) throw new Error('DATABASE_URL is required')
// the schema goes into the SQL text: only a tenant schema's name (the app's own pattern)
if (!/^tenant_[a-z0-9_]{1,55}$/.test(FLOOR_SCHEMA)) throw new Error(`refusing schema "${FLOOR_SCHEMA}"`)

// the app's pool size (src/platform/db/orm.ts)
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
const sql = `select id, display_name from "${FLOOR_SCHEMA}".account where identifiant = $1`

const page = nunjucks.compile(
  `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{{ title }} — {{ site }}</title></head>
<body>
<main>
  <h1>Bonjour {{ name }}</h1>
  <p>Compte n° {{ id }}</p>
  <ul>{% for link in links %}<li><a href="{{ link.href }}">{{ link.label }}</a></li>{% endfor %}</ul>
</main>
</body>
</html>
`,
  new nunjucks.Environment(null, { autoescape: true }),
)
const links = [
  { href: '/famille', label: 'Famille' },
  { href: '/eleves', label: 'Élèves' },
  { href: '/famille/pieces', label: 'Pièces à fournir' },
]

const app = Fastify({ logger: false })
app.get('/', async (_request, reply) => {
  const { rows } = await pool.query<{ id: number; display_name: string }>(sql, [FLOOR_IDENTIFIANT])
  const account = rows[0]
  if (!account) return reply.code(404).send(`no account ${FLOOR_IDENTIFIANT} in ${FLOOR_SCHEMA}`)
  return reply
    .type('text/html; charset=utf-8')
    .send(page.render({ title: 'Accueil', site: 'Tutti', name: account.display_name, id: account.id, links }))
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    await app.close()
    await pool.end()
    process.exit(0)
  })
}

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3001) })
