/**
 * The layer rule of docs/ARCHITECTURE.md, checked by `npm run check:layers` (part of `npm test`):
 * a module imports only its own layer and the layers below it, type-only imports included, and
 * no import cycle exists anywhere.
 */
const LAYERS = ['model', 'core', 'config', 'connectors', 'hub', 'identity', 'sync', 'analysis', 'schema', 'ops', 'server', 'app', 'cli'];

/** The layers above `layer`, as a path pattern. */
const above = (layer) => `^(${LAYERS.slice(LAYERS.indexOf(layer) + 1).join('|')})/`;

// schema/ and sync/ stand side by side: neither imports the other (ops/ joins them).
const SIDE_BY_SIDE = [
  { from: 'schema', to: 'sync' },
  { from: 'sync', to: 'schema' },
  { from: 'sync', to: 'analysis' },
];

module.exports = {
  forbidden: [
    ...LAYERS.slice(0, -1).map((layer) => ({
      name: `${layer}-imports-upward`,
      severity: 'error',
      comment: `${layer}/ may import only the layers below it (docs/ARCHITECTURE.md)`,
      from: { path: `^${layer}/` },
      to: { path: above(layer) },
    })),
    ...SIDE_BY_SIDE.map(({ from, to }) => ({
      name: `${from}-imports-${to}`,
      severity: 'error',
      comment: `${from}/ and ${to}/ stand side by side: ops/ composes them`,
      from: { path: `^${from}/` },
      to: { path: `^${to}/` },
    })),
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'an import cycle ties modules that should change apart',
      from: { path: '^(model|core|config|connectors|hub|identity|sync|analysis|schema|ops|server|app|cli|demo)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|tests|bench|examples|console)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
