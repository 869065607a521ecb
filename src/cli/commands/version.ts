import { VERSION } from '../../util/version.js';
import type { Command } from '../command.js';

/** `halo version` (also `halo --version`): what an operator checks after an install or upgrade. */
export const versionCommand: Command = {
  words: ['version'],
  summary: 'Print the version of this halo installation (also `halo --version`).',
  run({ stdout }) {
    stdout(`halo ${VERSION}\n`);
    return 0;
  },
};
