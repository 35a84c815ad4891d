/** The aggregates the decimal tests ask a store for. */
import type { AggSpec } from '../../schema/store.js';

/** count, and the sum, average, least and greatest of `field`, each named after its function. */
export function everyAggregate(field: string): AggSpec[] {
  return [{ fn: 'count', as: 'count' }, ...(['sum', 'avg', 'min', 'max'] as const).map((fn) => ({ fn, field, as: fn }))];
}
