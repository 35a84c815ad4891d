/**
 * Looking up a config map (roles, jobs, sources, entities) by a name that came from outside: a
 * JWT claim, a GraphQL argument, an API key's entry. `map[name]` and `name in map` also find what
 * every object inherits (`constructor`, `__proto__`, `toString`, `hasOwnProperty`), so a role
 * named "constructor" would resolve to a function; these helpers only ever see the map's own
 * entries, and anything else is absent (deny by default).
 *
 * @example
 *   const rule = ownValue(config.server.auth.roles, claims.role); // undefined for "__proto__"
 */

/** Whether `key` is one of the map's own entries. */
export function hasOwnKey(map: object | null | undefined, key: PropertyKey): boolean {
  return map !== null && map !== undefined && Object.prototype.hasOwnProperty.call(map, key);
}

/** The map's own entry under `key`, or undefined (never an inherited member). */
export function ownValue<V>(map: Readonly<Record<string, V>> | Partial<Record<string, V>> | null | undefined, key: string): V | undefined {
  return hasOwnKey(map, key) ? (map as Record<string, V>)[key] : undefined;
}
