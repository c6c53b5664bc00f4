// dependency-cruiser: the layers of src/ point one way and no module imports itself back (run by scripts/lint.sh).
//
// Lowest first. A room may import its own files and any room of a lower layer, never a higher one; rooms of one
// layer do not import each other. tests, benchmarks and scripts sit above everything; src/ never imports them.
const LAYERS = [
  ['ffi', 'decode'], // the kernel binding (koffi, libbpf) and the pure decoders of map bytes
  ['config'], // the config file: parsed and validated once, handed on as plain settings
  ['program'], // the loaded XDP program: settings into maps, counters out
  ['metrics', 'status', 'replay', 'reconcile', 'testbed'], // what is built on the program and the decoders
  ['plugin', 'demo'], // the long-running daemon, the demo
  ['commands'], // one file per CLI command
  ['entry'], // src/cli.ts and src/index.ts
];
const roomPattern = (room) => (room === 'entry' ? '^src/[^/]+\\.ts$' : `^src/${room}/`);
const rank = new Map(LAYERS.flatMap((rooms, i) => rooms.map((room) => [room, i])));

const upward = [...rank]
  .filter(([, level]) => level < LAYERS.length - 1) // the top layer may import anything
  .map(([room, level]) => ({
  name: `layer-${room}`,
  comment: `src/${room === 'entry' ? '*.ts' : room} (layer ${level}) imports only from lower layers`,
  severity: 'error',
  from: { path: roomPattern(room) },
  to: {
    path: [...rank]
      .filter(([other, otherLevel]) => other !== room && otherLevel >= level)
      .map(([other]) => roomPattern(other))
      .join('|'),
  },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no module reaches itself through its imports', severity: 'error', from: {}, to: { circular: true } },
    ...upward,
    {
      name: 'src-not-tests',
      comment: 'the product never imports its tests, benchmarks or scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
