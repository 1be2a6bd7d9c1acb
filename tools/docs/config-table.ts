// Prints README's configuration table from CONFIG_VARS (`npx tsx tools/docs/config-table.ts`);
// a unit test keeps the README in step with it.
import { CONFIG_VARS } from '../../lib/config';

export function configTable(): string {
  const rows = Object.entries(CONFIG_VARS).map(([name, spec]) => {
    const fileVariant = 'secret' in spec && spec.secret ? ` (or \`${name}_FILE\`)` : '';
    const def = 'default' in spec ? `\`${spec.default}\`` : '(unset)';
    return `| \`${name}\`${fileVariant} | ${def} | ${spec.doc} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

if (require.main === module) console.log(configTable());
