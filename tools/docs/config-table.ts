// The configuration table of README.md, made from CONFIG_VARS (see update-readme.ts);
// a unit test keeps README in step with it.
import { CONFIG_VARS } from '../../lib/config';

export function configTable(): string {
  const rows = Object.entries(CONFIG_VARS).map(([name, spec]) => {
    const fileVariant = 'secret' in spec && spec.secret ? ` (or \`${name}_FILE\`)` : '';
    const def = 'default' in spec && spec.default !== '' ? `\`${spec.default}\`` : '(unset)';
    return `| \`${name}\`${fileVariant} | ${def} | ${spec.doc} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
