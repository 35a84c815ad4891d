/**
 * A cron schedule (node-cron syntax: five fields, or six with seconds first) in words, in English
 * or Chinese, for the places that show one: `crmlink sync status` and the console's jobs view
 * (GraphQL `SyncJob.scheduleText`). The words come from cronstrue; only its English and zh_CN
 * locales are loaded.
 */
import cronstrue from 'cronstrue';
import 'cronstrue/locales/zh_CN.js';

export type ScheduleLanguage = 'en' | 'zh';

const LOCALES: Record<ScheduleLanguage, string> = { en: 'en', zh: 'zh_CN' };

/** "*\/5 * * * *" → "Every 5 minutes" / "每隔 5 分钟"; an expression cronstrue cannot read is returned as written. */
export function describeSchedule(expr: string, language: ScheduleLanguage = 'en'): string {
  try {
    return cronstrue.toString(expr, { locale: LOCALES[language], use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    return expr;
  }
}
