import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  const model = program.command('model').description('The canonical CRM model: entities, fields, types, references');
  model
    .command('docs')
    .description('Print the model reference in Markdown (docs/model.md)')
    .action(async () => ctx.out((await import('../../model/docs.js')).modelReferenceMarkdown()));
}
