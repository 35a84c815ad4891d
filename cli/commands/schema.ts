/**
 * `crmlink schema print`: the GraphQL SDL the server would serve for this config — the model's
 * types with their descriptions, the config's custom fields with theirs, the operations API — for
 * code generators, schema registries and reviews. `--subgraph` prints the Apollo Federation
 * subgraph SDL instead (with @link and @key), what a gateway composes (`_service { sdl }`).
 * Exit codes: 0 printed, 2 bad usage or config.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { withApp } from '../context.js';
import { configCommand } from '../options.js';

interface PrintOptions {
  config?: string;
  subgraph?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const schema = program.command('schema').description('Print the GraphQL schema this config serves');

  configCommand(schema, 'print', 'Print the GraphQL SDL of /graphql for this config (descriptions included); reads the config, changes nothing')
    .option('--subgraph', 'print the Apollo Federation subgraph SDL (@link, @key on every entity), whatever server.federation says')
    .action(async (opts: PrintOptions) => {
      // A read-only hub: printing creates no hub file and migrates nothing.
      await withApp(ctx, { config: opts.config, readOnlyHub: true }, async (app) => {
        const [{ appSchema }, graphql] = await Promise.all([import('../../server/yoga-app.js'), import('../../schema/graphql-runtime.js')]);
        if (!opts.subgraph) return ctx.out(graphql.printSchema(appSchema(app)));
        const r = await graphql.execute({ schema: appSchema(app, { federation: true }), document: graphql.parse('{ _service { sdl } }') });
        ctx.out((r.data as { _service: { sdl: string } })._service.sdl);
      });
    });
}
