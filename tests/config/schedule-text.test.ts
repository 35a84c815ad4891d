/** Cron schedules in words (cronstrue), English and Chinese, as the CLI, GraphQL and the console show them. */
import { describe, expect, it } from 'vitest';
import { describeSchedule } from '../../config/schedule-text.js';

describe('describeSchedule', () => {
  it.each([
    ['*/5 * * * *', 'Every 5 minutes', '每隔 5 分钟'],
    ['* * * * *', 'Every minute', '每分钟'],
    ['0 2 * * *', 'At 02:00', '在02:00'],
    ['30 2 * * 1-5', 'At 02:30, Monday through Friday', '在02:30, 星期一至星期五'],
    // node-cron's optional seconds field comes first.
    ['*/10 * * * * *', 'Every 10 seconds', '每隔 10 秒'],
  ])('%s → %s / %s', (expr, en, zh) => {
    expect(describeSchedule(expr, 'en')).toBe(en);
    expect(describeSchedule(expr, 'zh')).toBe(zh);
  });

  it('returns an expression it cannot read as written', () => {
    expect(describeSchedule('every five minutes', 'en')).toBe('every five minutes');
    expect(describeSchedule('61 * * * *', 'zh')).toBe('61 * * * *');
  });
});
