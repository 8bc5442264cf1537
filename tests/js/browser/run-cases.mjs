// Runs named test cases one after the other on a page, showing progress in `log`, and returns
// [{ name, ok, ms, error }] for the Playwright runner to report.
export async function runCases(cases, log) {
  const results = [];
  for (const [name, fn] of cases) {
    const start = performance.now();
    try {
      await fn();
      results.push({ name, ok: true, ms: performance.now() - start });
    } catch (error) {
      results.push({ name, ok: false, ms: performance.now() - start, error: String(error?.stack ?? error) });
    }
    log.textContent = results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}`).join('\n');
  }
  return results;
}
