// FerretDB v1 (the embedded MongoDB-wire server) refuses documents with an array directly inside
// an array ("nested arrays are not supported"). Values we store verbatim from users (the run
// spec, e.g. search.space.hidden: [[16], [32, 16]]) go through ferretSafe first: an array inside
// an array is stored as its JSON text ("[16]"), everything else is unchanged.
export function ferretSafe<T>(value: T): T {
  const walk = (v: unknown, inArray: boolean): unknown => {
    if (Array.isArray(v)) return inArray ? JSON.stringify(v) : v.map((x) => walk(x, true));
    if (v && typeof v === 'object' && !(v instanceof Date) && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, false);
      return out;
    }
    return v;
  };
  return walk(value, false) as T;
}
