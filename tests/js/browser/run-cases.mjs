// Runs named test cases one after the other on a page, showing progress in `log`, and returns
// [{ name, ok, ms, error, skipped }] for the runner (Playwright, WebDriver) to report.
export async function runCases(cases, log) {
  const results = [];
  for (const [name, fn] of cases) {
    const start = performance.now();
    try {
      await fn();
      results.push({ name, ok: true, ms: performance.now() - start });
    } catch (error) {
      if (error?.name === 'Skip') {
        results.push({ name, ok: true, skipped: error.message, ms: performance.now() - start });
        continue;
      }
      // Firefox and WebKit stacks do not repeat the message.
      const stack = String(error?.stack ?? '');
      const text = stack.includes(String(error?.message)) ? stack : `${error}\n${stack}`;
      results.push({ name, ok: false, ms: performance.now() - start, error: text });
    }
    log.textContent = results.map((r) => `${r.skipped ? 'skip' : r.ok ? 'ok  ' : 'FAIL'} ${r.name}`).join('\n');
  }
  return results;
}
