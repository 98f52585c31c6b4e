/**
 * A value created on first use and kept for the life of the container, so a warm Lambda reuses its
 * clients and a cold start that lacks a variable fails on the first request with its name.
 */
export function lazy<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}
