import t from 'tap'
import { memoryLimiters } from '../../src/platform/http/limiters.ts'
import { SignInLimits } from '../../src/platform/http/sign-in-limits.ts'

const attempt = (address: string) => ({ tenant: 'limonest', identifiant: 'famille-cible', address })

t.test(
  'past its ceiling, an identifiant failing from many addresses is slowed down, never refused',
  async (t) => {
    const limits = new SignInLimits(memoryLimiters, { perIdentifiant: 3, delayStepMs: 150, maxDelayMs: 300 })
    for (let i = 0; i < 3; i++) await limits.failed(attempt(`192.0.2.${i}`))
    let started = performance.now()
    t.equal(await limits.admit(attempt('198.51.100.7')), undefined, 'the owner is admitted')
    t.ok(performance.now() - started >= 140, 'after a wait')
    for (let i = 3; i < 10; i++) await limits.failed(attempt(`192.0.2.${i}`))
    started = performance.now()
    t.equal(await limits.admit(attempt('198.51.100.7')), undefined)
    const waited = performance.now() - started
    t.ok(waited >= 290 && waited < 1_000, `the wait grows up to its cap (${Math.round(waited)} ms)`)
  },
)

t.test('an address failing too often is told when to come back', async (t) => {
  const limits = new SignInLimits(memoryLimiters, { perAddress: 2, windowSeconds: 60 })
  await limits.failed({ tenant: 'limonest', identifiant: 'a', address: '192.0.2.1' })
  t.equal(await limits.admit({ tenant: 'limonest', identifiant: 'b', address: '192.0.2.1' }), undefined)
  await limits.failed({ tenant: 'limonest', identifiant: 'b', address: '192.0.2.1' })
  const refused = await limits.admit({ tenant: 'limonest', identifiant: 'c', address: '192.0.2.1' })
  t.ok(refused && refused.retryAfterSeconds > 50 && refused.retryAfterSeconds <= 60)
  t.equal(await limits.admit({ tenant: 'angouleme', identifiant: 'c', address: '192.0.2.1' }), undefined)
})
