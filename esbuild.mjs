// Bundles the extension into dist/: extension.js; undici on its own in undici.js, which extension.js
// requires at the first request; and the AWS libraries of uploads (aws4fetch, the credential chain) in
// aws.js, required at the first upload. Kept apart, neither is even parsed when the extension activates. `--production` minifies and drops source maps; `--watch` rebuilds on change.
// `--metafile <file>` writes esbuild's analysis of both bundles there and `--no-write` leaves dist/ alone
// (the size benchmark uses both, so it measures exactly what this script builds).
import * as esbuild from 'esbuild';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Prints esbuild's problems in the form VS Code's $esbuild-watch problem matcher understands. Only the
 * extension's build announces start and finish, so the matcher sees one build, not two interleaved.
 */
function problemReporter({ announce }) {
  return {
    name: 'problem-reporter',
    setup(build) {
      if (announce) build.onStart(() => console.log('[watch] build started'));
      build.onEnd((result) => {
        for (const { text, location } of result.errors) {
          console.error(`✘ [ERROR] ${text}`);
          if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
        }
        if (announce) console.log('[watch] build finished');
      });
    },
  };
}

/** `import … from 'undici'` in the extension becomes `require('./undici.js')`: the sibling bundle. */
const undiciBeside = {
  name: 'undici-beside',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: './undici.js', external: true }));
  },
};

/** `./vendor` of src/core/upload (the AWS libraries) becomes `require('./aws.js')`: the sibling bundle. */
const awsBeside = {
  name: 'aws-beside',
  setup(build) {
    build.onResolve({ filter: /^\.\/vendor$/ }, (args) =>
      /[\\/]core[\\/]upload$/.test(args.resolveDir) ? { path: './aws.js', external: true } : undefined,
    );
  },
};

/** The options of the three bundles. */
function bundleOptions({ production = false, write = true } = {}) {
  const common = {
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    metafile: true,
    write,
    logLevel: 'silent',
  };
  return [
    {
      ...common,
      entryPoints: ['src/extension.ts'],
      outfile: 'dist/extension.js',
      external: ['vscode'],
      plugins: [undiciBeside, awsBeside, problemReporter({ announce: true })],
    },
    { ...common, entryPoints: [require.resolve('undici')], outfile: 'dist/undici.js', plugins: [problemReporter({ announce: false })] },
    { ...common, entryPoints: ['src/core/upload/vendor.ts'], outfile: 'dist/aws.js', plugins: [problemReporter({ announce: false })] },
  ];
}

function option(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const write = !process.argv.includes('--no-write');
const metafilePath = option('--metafile');

const contexts = await Promise.all(bundleOptions({ production, write }).map((options) => esbuild.context(options)));
if (watch) {
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  const results = await Promise.all(contexts.map((context) => context.rebuild()));
  await Promise.all(contexts.map((context) => context.dispose()));
  if (metafilePath) {
    const inputs = Object.assign({}, ...results.map((result) => result.metafile.inputs));
    const outputs = Object.assign({}, ...results.map((result) => result.metafile.outputs));
    writeFileSync(metafilePath, JSON.stringify({ inputs, outputs }));
  }
  if (results.some((result) => result.errors.length > 0)) process.exit(1);
}
