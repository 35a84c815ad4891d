import { z } from 'zod';
import { configSchema } from './schema.js';

/** JSON Schema of crmlink.yaml, for editor completion (yaml-language-server). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'crmlink configuration',
  };
}
