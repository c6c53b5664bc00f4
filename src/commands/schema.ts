// `xdp-decap schema`: prints the JSON Schema of the config file, for editors and CI validation.
import { configJsonSchema } from '../config/load.ts';
import { command, defineCommand } from './command.ts';
import { EXIT } from './usage.ts';

const SCHEMA = defineCommand({
  name: 'schema',
  summary: 'print the JSON Schema of the config file',
  description: 'Prints the JSON Schema (draft 2020-12) of the xdp-decap config file (YAML or JSON), for editors and CI checks.',
  options: {},
  examples: ['xdp-decap schema > config.schema.json'],
});

export const schemaCommand = command(SCHEMA, async (_parsed) => {
  console.log(JSON.stringify(configJsonSchema(), null, 2));
  return EXIT.ok;
});
