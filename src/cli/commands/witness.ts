import { SdNotify } from '../../agent/sd-notify.js';
import { readPrivateFile } from '../../agent/secrets.js';
import { WitnessServer } from '../../coordination/witness.js';
import { loadConfig } from '../../engine/config-catalog.js';
import { HaloError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { raiseOwnThreadPriority } from '../../util/thread-priority.js';
import type { Command } from '../command.js';

export const witnessCommand: Command = {
  words: ['witness'],
  summary: 'Run a witness: a vote without resources, for one or several clusters.',
  options: {
    config: {
      type: 'string',
      short: 'c',
      multiple: true,
      description: 'Config file of a cluster to serve (repeat for several).',
      valueName: 'FILE',
    },
    listen: {
      type: 'string',
      description: 'HOST:PORT to listen on (default: witness address from the first config).',
      valueName: 'HOST:PORT',
    },
  },
  async run({ options, signal }) {
    const files = (options['config'] as string[] | undefined) ?? ['/etc/halo/halo.yaml'];
    const clusters = files.map((file) => {
      const config = loadConfig(file);
      return { config, key: Buffer.from(readPrivateFile(config.cluster.secretFile, 'cluster key')) };
    });
    const first = clusters[0]!.config;
    const listenText = options['listen'] as string | undefined;
    let listen: { host: string; port: number };
    if (listenText) {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listenText);
      if (!m) throw new HaloError('HALO_E_USAGE', `--listen: expected HOST:PORT, got "${listenText}"`);
      listen = { host: m[1]!, port: Number(m[2]) };
    } else if (first.witness) {
      listen = { host: first.witness.address, port: first.witness.port };
    } else {
      throw new HaloError('HALO_E_USAGE', `${first.file} has no witness section; pass --listen HOST:PORT`);
    }
    const log = createLogger({ name: 'halo-witness' });
    const priorityProblem = raiseOwnThreadPriority();
    if (priorityProblem) log.info({ reason: priorityProblem }, 'witness runs at normal priority');
    const server = new WitnessServer({ listen, clusters, log });
    await server.start();
    const sd = new SdNotify({ onError: (message) => log.warn({ message }, 'sd_notify failed') });
    sd.start();
    sd.notify('READY=1');
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await sd.stop();
    await server.stop();
    return 0;
  },
};
