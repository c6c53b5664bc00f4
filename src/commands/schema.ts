// `xdp-decap schema`: prints the JSON Schema of the config file, for editors and CI validation.
import { configJsonSchema } from '../config/load.ts';
import { EXIT } from './usage.ts';

export async function schemaCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log('Usage: xdp-decap schema\n\nPrints the JSON Schema of the xdp-decap config file (YAML or JSON).');
    return EXIT.ok;
  }
  console.log(JSON.stringify(configJsonSchema(), null, 2));
  return EXIT.ok;
}
