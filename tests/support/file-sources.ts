/** The file (xlsx / csv) connectors the connector tests open on files they wrote into a folder. */
import { createConnector } from '../../connectors/registry.js';
import { sourceSchema } from '../../config/schema.js';
import type { Connector } from '../../connectors/connector.js';
import type { Row } from '../../connectors/driver.js';

/** A connector named `name` of `kind` on `dir`/`filename`, with the source's `file:` settings. */
export function fileConnector(dir: string, name: string, kind: 'xlsx' | 'csv', filename: string, file: Record<string, unknown> = {}): Connector {
  return createConnector(name, sourceSchema.parse({ kind: 'crm', connector: kind, connection: { filename }, file }), { baseDir: dir });
}

/** Every row of `table`, page by page. */
export async function readAll(c: Connector, table: string, key: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const page of c.readPages({ table, key })) rows.push(...page);
  return rows;
}
