// Typed errors that `instanceof` recognises in every realm. A class is one object per realm and per
// loaded copy of its module: the workflow sandbox (node:vm) and each jest test file load their own,
// so a plain `err instanceof X` is false for an X thrown by the other copy, and code fell back to
// matching names or message text. The Temporal SDK solves this for its own errors with a marker
// from the global symbol registry (one per process, shared by every realm) and a Symbol.hasInstance
// that looks for it (@temporalio/common's SymbolBasedInstanceOfError, which it does not export);
// this is the same pattern for ours. Pure: errors that workflows see may use it.

/**
 * Makes `x instanceof clazz` true for any instance of any copy of `clazz` (or of a subclass), and
 * names its instances `name`. Call it once, right after the class; the class must not assign
 * `this.name` itself (the prototype's `name` is read-only).
 */
export function markErrorClass(clazz: abstract new (...args: never[]) => Error, name: string): void {
  const marker = Symbol.for(`mlops.error.${name}`);
  Object.defineProperty(clazz.prototype, 'name', { value: name, enumerable: true });
  Object.defineProperty(clazz.prototype, marker, { value: true });
  Object.defineProperty(clazz, Symbol.hasInstance, {
    value(this: unknown, err: unknown): boolean {
      // A subclass inherits this method: for it, fall back to the prototype chain, or every
      // instance of the parent would count as an instance of the subclass too.
      if (this !== clazz) return Function.prototype[Symbol.hasInstance].call(this, err);
      return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[marker] === true;
    },
  });
}
