import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('Check the config file or print its JSON Schema');

  config
    .command('check')
    .description('Validate the config file: every problem with its path and line; exit 2 when invalid')
    .option('-c, --config <file>', 'config file (default: crmlink.yaml or $CRMLINK_CONFIG)')
    .action(async (opts: { config?: string }) => {
      const loaded = await ctx.loadConfig(opts);
      const c = loaded.config;
      const entities = Object.keys(c.entities);
      ctx.out(
        `config ok: ${loaded.file}\n` +
          `  hub: ${c.hub.dialect}\n` +
          `  sources: ${Object.entries(c.sources).map(([n, s]) => `${n} (${s.dialect}, ${s.kind})`).join(', ') || 'none'}\n` +
          `  entities: ${entities.join(', ') || 'none'}\n` +
          `  jobs: ${Object.keys(c.sync.jobs).join(', ') || 'none'}`,
      );
    });

  config
    .command('schema')
    .description('Print the JSON Schema of crmlink.yaml (for editor completion)')
    .action(async () => ctx.out(JSON.stringify((await import('../../config/json-schema.js')).configJsonSchema(), null, 2)));

  config
    .command('docs')
    .description('Print the config reference in Markdown (docs/config.md)')
    .action(async () => ctx.out((await import('../../config/docs.js')).configReferenceMarkdown()));
}
