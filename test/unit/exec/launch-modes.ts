import { after, before, describe } from 'node:test';
import { Launcher, useLauncher } from '../../../src/engine/exec/launcher.js';

/**
 * Declares the suite twice: commands forked by the test process itself (the CLI's way), and
 * through a real launcher process (the agent's way), so both paths meet the same expectations.
 */
export function inEachLaunchMode(title: string, body: () => void): void {
  for (const mode of ['forked by this process', 'through the launcher process'] as const)
    describe(`${title} (${mode})`, () => {
      if (mode === 'through the launcher process') {
        const launcher = new Launcher();
        before(() => useLauncher(launcher));
        after(() => {
          useLauncher(null);
          launcher.close();
        });
      }
      body();
    });
}
