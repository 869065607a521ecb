import { z } from 'zod';
import { host, port } from '../../../config/fields.js';

export const tcpMonitorParams = z.strictObject({
  host: host('Host to connect to.'),
  port: port('TCP port that must accept a connection.'),
});
export type TcpMonitorParams = z.output<typeof tcpMonitorParams>;
