import { loadConfig } from '../platform/config.ts'
import { runCli } from './commands.ts'

try {
  process.exitCode = await runCli(process.argv.slice(2), loadConfig(), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  })
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exitCode = 1
}
