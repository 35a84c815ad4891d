import type { Command } from 'commander';
import { configJsonSchema } from '../../config/json-schema.js';
import { configReferenceMarkdown } from '../../config/docs.js';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('Check the config file or print its JSON Schema');

  config
    .command('check')
    .description('Validate the config file: every problem with its path and line; exit 2 when invalid')
    .option('-c, --config <file>', 'config file (default: crmlink.yaml or $CRMLINK_CONFIG)')
    .action((opts: { config?: string }) => {
      const loaded = ctx.loadConfig(opts);
      const c = loaded.config;
      const entities = Object.keys(c.entities);
      ctx.out(
        `config ok: ${loaded.file}\n` +
          `  hub: ${c.hub.dialect}\n` +
          `  sources: ${Object.entries(c.sources).map(([n, s]) => `${n} (${s.dialect ?? s.connector}, ${s.kind})`).join(', ') || 'none'}\n` +
          `  entities: ${entities.join(', ') || 'none'}\n` +
          `  jobs: ${Object.keys(c.sync.jobs).join(', ') || 'none'}`,
      );
    });

  config
    .command('schema')
    .description('Print the JSON Schema of crmlink.yaml (for editor completion)')
    .action(() => ctx.out(JSON.stringify(configJsonSchema(), null, 2)));

  config
    .command('docs')
    .description('Print the config reference in Markdown (docs/config.md)')
    .action(() => ctx.out(configReferenceMarkdown()));
}
