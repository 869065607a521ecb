import { z } from 'zod';

/** No parameters: the monitor runs the target resource's own `check`. */
export const resourceMonitorParams = z.strictObject({});
export type ResourceMonitorParams = z.output<typeof resourceMonitorParams>;
