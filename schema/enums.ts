/**
 * GraphQL enums over the lower-case codes the rest of crmlink uses ('ok', 'before-restore'): the
 * SDL names values in upper case (OK, BEFORE_RESTORE) while resolvers keep returning and
 * receiving the codes themselves, through the enum's internal values.
 *
 * @example
 *   const status = codeEnum('SyncRunStatus', ['ok', 'partial', 'failed'], 'How a sync run ended.');
 *   // status.sdl: 'enum SyncRunStatus { OK PARTIAL FAILED }'; status.values: { OK: 'ok', ... }
 */
export interface CodeEnum {
  name: string;
  sdl: string;
  /** GraphQL value name → the code resolvers see. */
  values: Record<string, string>;
}

/** `before-restore` → `BEFORE_RESTORE`. */
export function enumValueName(code: string): string {
  return code.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

export function codeEnum(name: string, codes: readonly string[], description?: string): CodeEnum {
  const values = Object.fromEntries(codes.map((c) => [enumValueName(c), c]));
  const doc = description ? `"""${description}"""\n` : '';
  return { name, sdl: `${doc}enum ${name} {\n${Object.keys(values).map((v) => `  ${v}`).join('\n')}\n}`, values };
}

/** The internal-value maps of `enums`, keyed by enum name, as a resolver map takes them. */
export function enumResolvers(enums: readonly CodeEnum[]): Record<string, Record<string, string>> {
  return Object.fromEntries(enums.map((e) => [e.name, e.values]));
}
