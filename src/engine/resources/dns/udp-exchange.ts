import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { HaloError } from '../../../errors.js';
import { formatDuration } from '../../../util/duration.js';
import { type DecodedMessage, decodeMessage } from './wire.js';

export interface ExchangeTarget {
  server: string;
  port: number;
  /** Limit of the whole exchange, resends included. */
  timeoutMs: number;
  signal: AbortSignal;
}

export interface Answer {
  wire: Buffer;
  message: DecodedMessage;
}

/**
 * Sends one DNS message over UDP straight to `server` (never the system resolver) and waits
 * for the answer with the same ID. UDP may lose a datagram, so the same message is resent a
 * few times inside the limit; an UPDATE that replaces an RRset is idempotent, and a server
 * that saw both copies answers both. The socket is connected, so an ICMP port-unreachable
 * surfaces as ECONNREFUSED instead of a silent timeout.
 */
export function exchange(wire: Buffer, id: number, target: ExchangeTarget): Promise<Answer> {
  const where = `${isIPv6(target.server) ? `[${target.server}]` : target.server}:${target.port}`;
  return new Promise<Answer>((resolve, reject) => {
    if (target.signal.aborted) {
      reject(cancelled(where));
      return;
    }
    const socket = createSocket(isIPv6(target.server) ? 'udp6' : 'udp4');
    let done = false;
    const resendMs = Math.max(250, Math.floor(target.timeoutMs / 3));
    const finish = (err: Error | null, answer?: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(resend);
      target.signal.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(answer as Answer);
    };
    const onAbort = () => finish(cancelled(where));
    const deadline = setTimeout(
      () =>
        finish(
          new HaloError(
            'HALO_E_DNS_TIMEOUT',
            `DNS server ${where} did not answer within ${formatDuration(target.timeoutMs)}`,
            { server: where },
          ),
        ),
      target.timeoutMs,
    );
    const send = () => {
      if (!done) socket.send(wire, (err) => err && finish(unreachable(where, err)));
    };
    const resend = setInterval(send, resendMs);
    target.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(unreachable(where, err)));
    socket.on('message', (data) => {
      let message: DecodedMessage;
      try {
        message = decodeMessage(data);
      } catch {
        return; // garbage: keep waiting for the real answer
      }
      if (message.id !== id || (message.flags & 0x8000) === 0) return;
      finish(null, { wire: data, message });
    });
    socket.connect(target.port, target.server, () => send());
  });
}

function cancelled(where: string): HaloError {
  return new HaloError('HALO_E_RESOURCE_CANCELLED', `DNS exchange with ${where} was cancelled`, {
    server: where,
  });
}

function unreachable(where: string, err: Error): HaloError {
  const code = (err as NodeJS.ErrnoException).code;
  const text =
    code === 'ECONNREFUSED' ? 'nothing answers on that port (ICMP port unreachable)' : (code ?? err.message);
  return new HaloError('HALO_E_DNS_UNREACHABLE', `DNS server ${where} cannot be reached: ${text}`, {
    server: where,
  });
}
