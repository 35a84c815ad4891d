/**
 * Where an e-cology workflow keeps its form data, found at run time (the table differs per form
 * and per installation):
 *
 * - workflow_base.isbill = '1': the form is a bill; `workflow_bill.tablename` (by
 *   workflow_base.formid) names its table. System bills have positive ids and their own tables
 *   (e.g. bill_...); custom forms have negative ids and tables formtable_main_<-formid>, with
 *   detail lines in <table>_dt1, _dt2, ...
 * - workflow_base.isbill = '0': an old-style form; its data is in the shared `workflow_form`
 *   table, one row per request.
 *
 * Every form table is joined to workflow_requestbase by `requestid`.
 */
import type { Driver } from '../../driver.js';

export interface WeaverForm {
  /** The table holding the form data, one row per request. */
  table: string;
  /** bill: a system bill; custom: a form built in the form designer; legacy: an old-style form. */
  kind: 'bill' | 'custom' | 'legacy';
  formId: number;
}

/** The form of a workflow, or null when the workflow or its bill is unknown. */
export async function weaverForm(driver: Driver, workflowId: number | string, signal?: AbortSignal): Promise<WeaverForm | null> {
  const [wf] = await driver.select({ table: 'workflow_base', columns: ['formid', 'isbill'], where: { column: 'id', op: 'eq', value: workflowId }, signal });
  const formId = Number(wf?.formid);
  if (!wf || !Number.isFinite(formId)) return null;
  if (String(wf.isbill ?? '').trim() !== '1') return { table: 'workflow_form', kind: 'legacy', formId };
  const [bill] = await driver.select({ table: 'workflow_bill', columns: ['tablename'], where: { column: 'id', op: 'eq', value: formId }, signal });
  const table = String(bill?.tablename ?? '').trim();
  if (!table) return null;
  return { table, kind: formId < 0 ? 'custom' : 'bill', formId };
}

/** The table of a workflow's form data (see weaverForm). */
export async function weaverFormTable(driver: Driver, workflowId: number | string, signal?: AbortSignal): Promise<string | null> {
  return (await weaverForm(driver, workflowId, signal))?.table ?? null;
}

/** Every custom-form main table present, in numeric order (for `crmlink mapping scaffold`). */
export async function weaverFormTables(driver: Driver, signal?: AbortSignal): Promise<string[]> {
  const tables = await driver.introspect({ signal });
  return tables
    .map((t) => t.name)
    .filter((n) => /^formtable_main_\d+$/i.test(n))
    .sort((a, b) => Number(a.split('_').pop()) - Number(b.split('_').pop()));
}
