import t from 'tap'
import { translator } from '../../src/platform/views/i18n.ts'
import { en } from '../../src/platform/views/messages/en.ts'
import { fr } from '../../src/platform/views/messages/fr.ts'

// the type of en.ts already asks for every French key; this also catches a key only English has,
// and a translation that drops or renames a parameter (it would print "{name}" or lose the value)
const parameters = (message: string) =>
  [...new Set([...message.matchAll(/\{(\w+)[|}]/g)].map((m) => m[1]))].sort()

t.test('French and English catalogues have the same keys, pages and mails alike', async (t) => {
  t.same(Object.keys(en).sort(), Object.keys(fr).sort())
})

t.test('each message takes the same parameters in both languages', async (t) => {
  for (const [key, message] of Object.entries(fr)) {
    t.same(parameters(en[key as keyof typeof fr]), parameters(message), key)
  }
})

t.test(
  'a value is inserted as typed: neither read as a parameter nor escaped (the view escapes)',
  async (t) => {
    const fr = translator('fr')
    t.equal(fr('mail.hello', { name: '{name} & <b>' }), 'Bonjour {name} & <b>,')
    t.equal(fr('mail.field', {}), '{label} :', 'a missing parameter shows, so tests can see it')
    t.equal(translator('en')('mail.hello', { name: 'Zoé' }), 'Hello Zoé,')
  },
)

t.test('French takes no capital after a dash, except before a name', async (t) => {
  // "Aide – Accessibilité" names the Accessibilité page
  const names = new Set(['signIn.help'])
  t.same(
    Object.entries(fr)
      .filter(([key, message]) => !names.has(key) && /\s[–—]\s\p{Lu}/u.test(message))
      .map(([key, message]) => `${key}: ${message}`),
    [],
  )
})
