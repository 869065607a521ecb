import { z } from 'zod';
import { duration } from '../../../config/fields.js';

export const stallMonitorParams = z.strictObject({
  maxLag: duration('Largest tolerated event-loop lag of the agent before it counts as stalled.').prefault(
    '1s',
  ),
});
export type StallMonitorParams = z.output<typeof stallMonitorParams>;
