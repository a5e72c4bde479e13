import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { generateDialplan, type Flavor } from '../../src/ops/dialplan.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The shipped files are the generator's output for the example config; regenerate them with the command in their header. */
export const SHIPPED: readonly { readonly file: string; readonly flavor: Flavor }[] = [
  { file: 'dialplan/outbound-failover.conf', flavor: 'plain' },
  { file: 'dialplan/freepbx-extensions_custom.conf', flavor: 'freepbx' },
  { file: 'dialplan/vicidial-carrier-dialplan-entry.conf', flavor: 'vicidial' },
];

export function exampleOutput(flavor: Flavor): string {
  const cfg = loadConfig({ file: join(repoRoot, 'systemd', 'config.example.json'), env: {} });
  const out = generateDialplan(cfg.routing, {
    flavor,
    route: null,
    context: null,
    agiHost: cfg.settings.agi.host,
    agiPort: cfg.settings.agi.port,
    source: 'systemd/config.example.json',
  });
  if (!out.ok) throw new Error(out.problem);
  return out.text;
}

export const shippedText = (file: string): string => readFileSync(join(repoRoot, file), 'utf8');
