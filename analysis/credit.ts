/**
 * Would an order fit a customer's credit? Computed live from the hub (not from the last refresh):
 * the open receivables now against the credit limit in force today.
 */
import { Decimal } from 'decimal.js';
import type { AnalysisConfig } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import type { Hub } from '../hub/hub.js';
import { isPlainDecimal } from '../model/decimal.js';
import { computeFigures, windowsOf } from './figures.js';
import { centsToDecimal, todayIn } from './sql.js';

export interface CreditCheck {
  customerId: string;
  amount: string;
  limit: string | null;
  receivable: string;
  /** limit − receivable; null without a limit. */
  available: string | null;
  /** receivable + amount ≤ limit. Without a credit limit nothing fits (deny by default). */
  fits: boolean;
  reason: 'FITS' | 'OVER_LIMIT' | 'NO_LIMIT';
}

/** null when the customer does not exist (or is deleted or merged away). */
export async function checkCredit(hub: Hub, cfg: AnalysisConfig, customerId: string, amount: string, now: () => Date = () => new Date()): Promise<CreditCheck | null> {
  if (!isPlainDecimal(amount) || new Decimal(amount).isNegative()) {
    throw new CrmlinkError('VALIDATION_FAILED', `creditCheck: amount must be a decimal of at least 0, got "${amount}"`, { field: 'amount' });
  }
  const cents = BigInt(new Decimal(amount).times(100).toDecimalPlaces(0, Decimal.ROUND_UP).toFixed(0));
  const [f] = await computeFigures(hub.knex, hub.dialect, cfg, windowsOf(cfg.asOf ?? todayIn(now(), cfg.timezone), cfg), [customerId]);
  if (!f) return null;
  const limit = f.creditLimitCents;
  const base = { customerId, amount: new Decimal(amount).toFixed(), receivable: centsToDecimal(f.receivableCents) };
  if (limit === null) return { ...base, limit: null, available: null, fits: false, reason: 'NO_LIMIT' };
  const fits = f.receivableCents + cents <= limit;
  return { ...base, limit: centsToDecimal(limit), available: centsToDecimal(limit - f.receivableCents), fits, reason: fits ? 'FITS' : 'OVER_LIMIT' };
}
