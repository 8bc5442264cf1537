// Firefox (geckodriver) and WebKit (WebKitWebDriver + MiniBrowser under Xvfb) driven over plain
// W3C WebDriver HTTP, as chromium.mjs drives Chromium with Playwright: a session that opens a
// page and runs a function in it (`run`), and `webdriverResults`, which waits for a test page's
// `window.__results`. Nothing to install from npm; the drivers come from cargo (geckodriver) and
// Debian (webkit2gtk-driver, xvfb), see scripts/setup.mjs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './workerd.mjs';

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const GECKODRIVER = join(homedir(), '.cargo', 'bin', 'geckodriver');

/** How each browser is driven. */
export const BROWSERS = {
  firefox: {
    available: () => existsSync(GECKODRIVER) && (existsSync('/usr/bin/firefox') || existsSync('/usr/bin/firefox-esr')),
    driver: (port, path = GECKODRIVER) => [path, ['--port', String(port), '--host', '127.0.0.1']],
    capabilities: (prefs = {}) => ({
      browserName: 'firefox',
      'moz:firefoxOptions': { args: ['-headless'], prefs },
    }),
  },
  webkit: {
    available: () =>
      existsSync('/usr/bin/WebKitWebDriver') && existsSync(MINIBROWSER) && existsSync('/usr/bin/xvfb-run'),
    driver: (port) => ['xvfb-run', ['-a', '/usr/bin/WebKitWebDriver', `--port=${port}`]],
    capabilities: () => ({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
    }),
  },
};

async function call(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

/**
 * A WebDriver session in `browser` ('firefox' | 'webkit'): { version, goto(url), eval(script),
 * run(fn, arg) (an async function run in the page, its result returned), close() }.
 * `driverPath`: the driver binary (geckodriver); `prefs`: Firefox preferences.
 */
export async function webdriverSession(browser, { driverPath, prefs } = {}) {
  const b = BROWSERS[browser];
  const port = await freePort();
  const [command, args] = b.driver(port, driverPath);
  const driver = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  driver.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-driver.pid, 'SIGTERM');
    } catch {}
  };
  let session;
  try {
    for (let i = 0; ; i++) {
      try {
        await call(base, 'GET', '/status');
        break;
      } catch (error) {
        if (i > 300) throw new Error(`${browser} driver did not start: ${error.message}\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    session = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: b.capabilities(prefs) } });
  } catch (error) {
    stop();
    throw error;
  }
  const id = session.sessionId;
  const at = (path) => `/session/${id}${path}`;
  await call(base, 'POST', at('/timeouts'), { script: 600_000, pageLoad: 120_000 });
  return {
    version: session.capabilities?.browserVersion ?? 'unknown',
    goto: (url) => call(base, 'POST', at('/url'), { url }),
    eval: (script) => call(base, 'POST', at('/execute/sync'), { script, args: [] }),
    async run(fn, arg) {
      const result = await call(base, 'POST', at('/execute/async'), {
        script: `const done = arguments[arguments.length - 1];
          Promise.resolve((${fn})(arguments[0])).then(
            (value) => done({ ok: true, value }),
            (error) => done({ ok: false, error: String(error && error.stack || error) }),
          );`,
        args: [arg],
      });
      if (!result.ok) throw new Error(`${browser}: ${result.error}`);
      return result.value;
    },
    async close() {
      await call(base, 'DELETE', at('')).catch(() => {});
      stop();
    },
  };
}

/** A Firefox session (geckodriver at `geckodriver`, with `prefs`). */
export function firefoxSession({ geckodriver, prefs } = {}) {
  const path = geckodriver && geckodriver !== 'geckodriver' ? geckodriver : GECKODRIVER;
  return webdriverSession('firefox', { driverPath: path, prefs });
}

/**
 * Opens `url` in `browser` and waits (polling) for the page's `window.__results`, which it
 * returns; fails after `timeout` ms with what the page's #log says.
 */
export async function webdriverResults(browser, url, { timeout }) {
  const session = await webdriverSession(browser);
  try {
    await session.goto(url);
    const deadline = Date.now() + timeout;
    for (;;) {
      const results = await session.eval('return window.__results ? JSON.stringify(window.__results) : null');
      if (results) return JSON.parse(results);
      if (Date.now() > deadline) {
        const log = await session.eval("return document.getElementById('log')?.textContent ?? ''");
        throw new Error(`${browser}: no results after ${timeout} ms; the page says:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await session.close();
  }
}
