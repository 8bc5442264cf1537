// Drives http-server.mjs over HTTP from any runtime (Node, Deno, a page): put files, queue
// faults, read the request log. No Node imports.

/** Drives the server over HTTP (from any runtime): put files, queue faults, read the log. */
export function serverClient(base) {
  const call = async (method, path, body) => {
    const response = await fetch(`${base}/_control/${path}`, { method, body });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    base,
    url: (name) => `${base}/${name}`,
    put(name, bytes, options = {}) {
      const query = new URLSearchParams(
        Object.entries(options).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]),
      );
      return call('PUT', `files/${encodeURIComponent(name)}?${query}`, bytes);
    },
    /** Serves the file at `path` on the server's disk as `name` (large files, no copy). */
    putPath(name, path, options = {}) {
      const query = new URLSearchParams(
        Object.entries({ ...options, path }).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]),
      );
      return call('PUT', `files/${encodeURIComponent(name)}?${query}`, new Uint8Array(0));
    },
    faults: (name, list) => call('POST', `faults/${encodeURIComponent(name)}`, JSON.stringify(list)),
    log: (name) => call('GET', `log/${encodeURIComponent(name)}`),
    stats: () => call('GET', 'stats'),
    summary: (name) => call('GET', `log/${encodeURIComponent(name)}?summary=1`),
    clear: (name) => call('DELETE', `log/${encodeURIComponent(name)}`),
  };
}
