import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

// Debian's chromium, as .ci/run installs it; never a downloaded browser
const executablePath = '/usr/bin/chromium'

/** Test options that skip a browser test where Debian's chromium is missing, saying how to install it. */
export const needsBrowser = {
  skip: existsSync(executablePath) ? false : `no browser at ${executablePath} (apt-get install -y chromium)`,
}

/** Chromium, headless, resolving every `*.localhost` tenant host to this machine; closed after the test. */
export async function launchBrowser(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP *.localhost 127.0.0.1'],
  })
  t.teardown(() => browser.close())
  return browser
}
