/**
 * The config reference in Markdown, generated from the schema's own descriptions so the docs
 * cannot drift from what is validated (`crmlink config docs > docs/config.md`; a test compares).
 */
import { configJsonSchema } from './json-schema.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  required?: string[];
  pattern?: string;
}

export function configReferenceMarkdown(): string {
  const rows: string[] = [];
  walk(configJsonSchema() as JsonSchema, '', rows, new Set());
  return [
    '# crmlink.yaml reference',
    '',
    'Generated from the config schema (`crmlink config docs`). `<name>` stands for a name you choose;',
    '`${VAR}` in any string reads the environment (`${VAR:-default}` gives a fallback).',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function walk(s: JsonSchema, path: string, rows: string[], seen: Set<string>): void {
  if (path && !seen.has(path)) {
    seen.add(path);
    rows.push(`| \`${path}\` | ${typeOf(s)} | ${s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``} | ${(s.description ?? '').replace(/\|/g, '\\|')} |`);
  }
  for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, path ? `${path}.${k}` : k, rows, seen);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const key = s.propertyNames?.enum ? '<Entity>' : '<name>';
    walk(s.additionalProperties, `${path}.${key}`, rows, seen);
  }
  if (s.items && typeof s.items === 'object' && s.items.properties) walk(s.items, `${path}[]`, rows, seen);
  for (const alt of s.anyOf ?? []) if (alt.properties) walk(alt, path, rows, seen);
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).filter((t, i, a) => a.indexOf(t) === i).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  if (s.pattern) return `string (\`${s.pattern}\`)`;
  return s.type ?? 'any';
}
