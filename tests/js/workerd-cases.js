// Runs named cases inside a workerd Worker and answers with their results as JSON
// ([{ name, ok, error, skipped }]), for the workerd-*-runner.js Workers.
export async function casesResponse(cases) {
  const results = [];
  for (const [name, fn] of cases) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (error) {
      if (error?.name === 'Skip') results.push({ name, ok: true, skipped: error.message });
      else results.push({ name, ok: false, error: String(error?.stack ?? error) });
    }
  }
  return Response.json(results);
}
