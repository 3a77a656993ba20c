// The kernel_info_reply: who we are and the language cells are written in.
// Spec: https://jupyter-client.readthedocs.io/en/latest/messaging.html#kernel-info
import { version as typescriptVersion } from '@tslab/typescript-for-tslab';
import { PROTOCOL_VERSION, type Content } from './wire';

const { version } = require('../../package.json') as { version: string };

export function kernelInfo(): Content {
  return {
    status: 'ok',
    protocol_version: PROTOCOL_VERSION,
    implementation: 'llamascope',
    implementation_version: version,
    language_info: {
      name: 'typescript',
      // Cells are checked and compiled by tslab's TypeScript, whatever the project's own version is.
      version: typescriptVersion,
      mimetype: 'text/typescript',
      file_extension: '.ts',
      pygments_lexer: 'typescript',
      codemirror_mode: 'typescript',
    },
    banner: `llamascope ${version}: TypeScript ${typescriptVersion} (tslab) on Node ${process.version}. import { … } from 'llamascope'`,
    debugger: false,
  };
}
