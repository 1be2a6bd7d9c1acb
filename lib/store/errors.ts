// How the store recognises MongoDB's answers by code, not by message text (which differs between
// MongoDB and FerretDB, and between server versions).

/** MongoDB's duplicate-key error code, the same on MongoDB 7 and FerretDB v1. */
const DUPLICATE_KEY = 11000;

/**
 * True for a duplicate-key refusal: a plain write error with code 11000, or an unordered bulk
 * write whose every failed document was a duplicate (any other failure among them is real).
 */
export function isDuplicateKey(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; writeErrors?: { code?: unknown }[] | { code?: unknown } };
  if (e.writeErrors !== undefined) {
    const list = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
    return list.length > 0 && list.every((w) => w.code === DUPLICATE_KEY);
  }
  return e.code === DUPLICATE_KEY;
}
