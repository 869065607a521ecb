import type { Scenario } from './scenario.js';

/** Every scenario by name, loaded on demand (each pulls in its own lab parts). */
export const SCENARIOS: Record<string, { title: string; load: () => Promise<Scenario> }> = {};
