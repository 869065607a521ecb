import { connect } from 'node:net';
import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { type TcpMonitorParams, tcpMonitorParams } from './params.js';

function abortReason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
}

class TcpMonitor implements MonitorInstance {
  constructor(private readonly params: TcpMonitorParams) {}

  probe(ctx: MonitorContext): Promise<MonitorResult> {
    const { host, port } = this.params;
    const target = `${host}:${port}`;
    if (ctx.signal.aborted)
      return Promise.resolve({ ok: false, output: `not tried: ${abortReason(ctx.signal)}` });
    const started = Date.now();
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const finish = (result: MonitorResult) => {
        ctx.signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.destroy();
        resolve(result);
      };
      // The engine's timeout aborts the signal; a SYN into a black hole would otherwise wait minutes.
      const onAbort = () =>
        finish({
          ok: false,
          output: `no connection to ${target} after ${Date.now() - started} ms (${abortReason(ctx.signal)})`,
        });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () =>
        finish({
          ok: true,
          output: `connected to ${target} (${socket.remoteAddress}) in ${Date.now() - started} ms`,
        }),
      );
      // The message names what happened, e.g. "connect ECONNREFUSED 127.0.0.1:445".
      socket.once('error', (err: NodeJS.ErrnoException) =>
        finish({ ok: false, output: err.message || err.code || `cannot connect to ${target}` }),
      );
    });
  }
}

export const tcpMonitor: MonitorPlugin<TcpMonitorParams> = {
  type: 'tcp',
  description: 'Healthy when a TCP connection to host:port is accepted.',
  params: tcpMonitorParams,
  target: 'optional',
  create: (_name, params) => new TcpMonitor(params),
};
