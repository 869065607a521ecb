import type { Scenario } from './scenario.js';

/** Every scenario by name, loaded on demand (each pulls in its own lab parts). */
export const SCENARIOS: Record<string, { title: string; load: () => Promise<Scenario> }> = {
  'aws-minio': {
    title: 'CLUSTERPRO X on AWS: MinIO on a shared share behind a route-table VIP',
    load: async () => (await import('./aws-minio.js')).scenario,
  },
  'azure-wsfc': {
    title:
      'WSFC on Azure: internal LB + probe port, cluster network, ProbePort change, idle-flow firewall, teardown',
    load: async () => (await import('./azure-wsfc.js')).scenario,
  },
};
