/**
 * `crmlink hub backup | backups | restore <backup> | verify <backup>`: back up the hub (备份) now,
 * list the backups, restore one (恢复), verify one. `crmlink backup` and `crmlink restore-backup
 * <backup>` are short forms of the first and third. Exit codes: 0 ok, 1 failed (a backup that does
 * not verify, a restore refused because a sync run holds its lock), 2 bad usage or config.
 * Progress goes to stderr: a redrawn line on a terminal, a line per tenth otherwise.
 */
import type { Command } from 'commander';
import type { BackupEntry, BackupProgress } from '../../hub/backup/index.js';
import type { App } from '../../app/app.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { withApp, type CliContext } from '../context.js';
import { CONFIG_FILE_HELP, configCommand } from '../options.js';

/** The backup module (and its SQLite driver) loads with the first command that uses it, not with `--help`. */
const backups = () => import('../../hub/backup/index.js');

interface Options {
  config?: string;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const hub = program.command('hub').description('Back up, list, verify and restore the hub (备份 / 恢复)');

  const backupCmd = (cmd: Command) =>
    cmd
      .description('Back up the hub now, then apply retention (hub.backup.keep)')
      .option('-c, --config <file>', CONFIG_FILE_HELP)
      .option('--no-prune', 'keep every older backup this time')
      .option('--json', 'print the manifest as JSON')
      .action(async (opts: Options & { prune: boolean }) => {
        await withApp(ctx, opts, async (app) => {
          const { backupSettingsOf, keepOf, pruneBackups, takeBackup } = await backups();
          const settings = backupSettingsOf(app.loaded);
          const progress = progressLine(ctx);
          let entry: BackupEntry;
          try {
            entry = await takeBackup(app.hub, { ...settings, label: 'manual', onProgress: progress.update });
          } finally {
            progress.done();
          }
          const { deleted } = opts.prune ? await pruneBackups(settings.dir, keepOf(settings.keep)) : { deleted: [] };
          if (opts.json) return ctx.out(JSON.stringify({ path: entry.path, manifest: entry.manifest, deleted: deleted.map((d) => d.path) }, null, 2));
          const m = entry.manifest;
          ctx.out(`backup written: ${entry.path}`);
          ctx.out(`  ${m.hubKind} hub, schema version ${m.schemaVersion}, ${formatBytes(m.sizeBytes)}, ${totalRows(m.rowCounts)} rows, in ${m.durationMs} ms`);
          ctx.out(`  sha256 ${m.sha256}`);
          for (const d of deleted) ctx.out(`  retention deleted ${d.path}`);
        });
      });
  backupCmd(hub.command('backup'));
  backupCmd(program.command('backup'));

  configCommand(hub, 'backups', 'List the backups in hub.backup.dir, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: Options) => {
      const { backupSettingsOf, listBackups } = await backups();
      const settings = backupSettingsOf(await ctx.loadConfig(opts));
      const list = await listBackups(settings.dir);
      if (opts.json) return ctx.out(JSON.stringify(list, null, 2));
      if (list.length === 0) return ctx.out(`no backups in ${settings.dir}`);
      ctx.out(
        table(
          ['FILE', 'TAKEN', 'KIND', 'LABEL', 'SIZE', 'ROWS', 'SHA256'],
          list.map((b) => [b.manifest.file, b.manifest.createdAt, b.manifest.hubKind, b.manifest.label, formatBytes(b.manifest.sizeBytes), String(totalRows(b.manifest.rowCounts)), b.manifest.sha256.slice(0, 12)]),
        ),
      );
    });

  configCommand(hub, 'verify', 'Check a backup: checksum, integrity, row counts against its manifest')
    .argument('<backup>', 'backup file (path, or name in hub.backup.dir)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: Options) => {
      const { backupSettingsOf, verifyBackup } = await backups();
      const settings = backupSettingsOf(await ctx.loadConfig(opts));
      const progress = progressLine(ctx);
      let report;
      try {
        report = await verifyBackup(ref, { ...settings, onProgress: progress.update });
      } finally {
        progress.done();
      }
      if (opts.json) ctx.out(JSON.stringify(report, null, 2));
      else if (report.ok) ctx.out(`backup ${report.path} verified: sha256 matches, ${Object.keys(report.rowCounts).length} tables, ${totalRows(report.rowCounts)} rows as in its manifest`);
      else ctx.out(`backup ${report.path} FAILED verification:\n  ${report.problems.join('\n  ')}`);
      if (!report.ok) throw new ExitCode(EXIT.failed);
    });

  const restoreCmd = (cmd: Command) =>
    cmd
      .description('Replace the hub with a backup (the current hub is kept as a before-restore backup)')
      .argument('<backup>', 'backup file (path, or name in hub.backup.dir)')
      .option('-c, --config <file>', CONFIG_FILE_HELP)
      .option('--json', 'print JSON')
      .action(async (ref: string, opts: Options) => {
        await withApp(ctx, opts, async (app: App) => {
          const { backupSettingsOf, restoreBackup } = await backups();
          const settings = backupSettingsOf(app.loaded);
          const progress = progressLine(ctx);
          let report;
          try {
            report = await restoreBackup(app.hub, ref, { ...settings, jobs: Object.keys(app.config.sync.jobs), onProgress: progress.update });
          } finally {
            progress.done();
          }
          if (opts.json) return ctx.out(JSON.stringify({ restored: report.restored.path, replaced: report.replaced.path, rowCounts: report.rowCounts }, null, 2));
          ctx.out(`hub restored from ${report.restored.path} (taken ${report.restored.manifest.createdAt})`);
          ctx.out(`  the hub it replaced is kept as ${report.replaced.path}`);
          ctx.out('  the next sync run continues from the checkpoints in the backup');
        });
      });
  restoreCmd(hub.command('restore'));
  restoreCmd(program.command('restore-backup'));
}

/** Progress on stderr: redrawn in place on a terminal; otherwise one line per tenth, so logs stay short. */
function progressLine(ctx: Pick<CliContext, 'err'>): { update: (p: BackupProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  let lastPhase = '';
  let drawn = false;
  return {
    update: (p) => {
      const pct = p.total ? Math.min(100, Math.floor((p.done / p.total) * 100)) : null;
      const text = `${p.phase}${pct === null ? '' : ` ${pct}%`}${p.total && p.unit !== 'bytes' ? ` (${p.done}/${p.total} ${p.unit})` : ''}`;
      if (tty) {
        process.stderr.write(`\r${text}   `);
        drawn = true;
        return;
      }
      const tenth = pct === null ? 0 : Math.floor(pct / 10);
      if (p.phase === lastPhase && tenth === lastTenth) return;
      lastPhase = p.phase;
      lastTenth = tenth;
      ctx.err(`backup progress: ${text}`);
    },
    done: () => {
      if (drawn) process.stderr.write('\r\x1b[2K');
    },
  };
}

function totalRows(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
