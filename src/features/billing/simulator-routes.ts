import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { tenantContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import {
  applyAction,
  emptyForm,
  maxPupils,
  readForm,
  type SimulatorForm,
  type Simulation,
  simulate,
  simulatedYear,
  startMonths,
} from './simulator.ts'

const page = '/tarifs/simulateur'
// the month names of the start choice, whatever the server's timezone
const monthNames = {
  fr: new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }),
}

/** The public tuition simulator (issue 17): no sign-in, nothing stored; a tenant without tariffs has none. */
export default async function simulatorRoutes(app: FastifyInstance) {
  const publicPage = { constraints: { site: 'tenant' } }

  const tariffsOf = (request: FastifyRequest) => {
    // read at each request: the configuration is versioned and may change while the process runs
    const { config } = tenantContext(request)
    if (!config.tariffs) throw new NotFound()
    return { config, tariffs: config.tariffs }
  }

  const render = (
    request: FastifyRequest,
    reply: FastifyReply,
    form: SimulatorForm,
    result: { errors?: FieldErrors; simulation?: Simulation } = {},
  ) => {
    const { config, tariffs } = tariffsOf(request)
    const { t, locale } = tenantContext(request)
    const schoolYear = simulatedYear(config)
    const fallback = config.quotientFamilial?.brackets.find(
      (b) => b.code === config.quotientFamilial?.fallback,
    )
    return reply.header('cache-control', 'private, no-store').view('billing/simulator', {
      title: t('simulator.title'),
      form,
      schoolYear,
      errors: result.errors,
      simulation: result.simulation,
      canAdd: form.pupils.length < maxPupils,
      fallback: fallback?.code,
      disciplines: config.disciplines ?? [],
      months: startMonths(tariffs, schoolYear).map((value) => ({
        value,
        label: monthNames[locale].format(new Date(`${value}-01T12:00:00Z`)),
      })),
      labels: result.errors && {
        resident: t('simulator.resident'),
        qf: t('simulator.qf'),
        paymentMode: t('simulator.paymentMode'),
        start: t('simulator.start'),
        ...Object.fromEntries(form.pupils.map((_, i) => [`p${i}`, t('simulator.pupil', { n: i + 1 })])),
      },
    })
  }

  app.get(page, publicPage, async (request, reply) => render(request, reply, emptyForm()))

  app.post<{ Body: Record<string, unknown> }>(
    page,
    { ...publicPage, schema: { body: { type: 'object' } } },
    async (request, reply) => {
      const { config, tariffs } = tariffsOf(request)
      const form = readForm(request.body)
      const changed = applyAction(form, request.body?.action)
      if (changed) return render(request, reply, changed)
      const { values, errors } = simulate(form, config, tariffs, tenantContext(request).t)
      if (errors) return render(request, reply.code(400), form, { errors })
      return render(request, reply, form, { simulation: values })
    },
  )
}
