/**
 * e-cology keeps each workflow form's data in its own table, formtable_main_<−formid>, so which
 * table holds a workflow's fields is only known at run time.
 */
import type { Driver } from '../../driver.js';

/** The form table of a workflow (workflow_base.formid is negative for custom forms). */
export async function weaverFormTable(driver: Driver, workflowId: number | string, signal?: AbortSignal): Promise<string | null> {
  const rows = await driver.select({ table: 'workflow_base', columns: ['formid'], where: { column: 'id', op: 'eq', value: workflowId }, signal });
  const formId = Number(rows[0]?.formid);
  if (!Number.isFinite(formId) || formId === 0) return null;
  return `formtable_main_${Math.abs(formId)}`;
}

/** Every main form table present, in numeric order. */
export async function weaverFormTables(driver: Driver, signal?: AbortSignal): Promise<string[]> {
  const tables = await driver.introspect({ signal });
  return tables
    .map((t) => t.name)
    .filter((n) => /^formtable_main_\d+$/i.test(n))
    .sort((a, b) => Number(a.split('_').pop()) - Number(b.split('_').pop()));
}
