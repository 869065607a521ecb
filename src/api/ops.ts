/**
 * What the REST API needs from the agent. The agent implements it on top of the engine and
 * the coordinator; the API only translates HTTP to these calls and back.
 */

export interface ParamsView {
  /** Current effective parameters of the resource. */
  params: Record<string, unknown>;
  /** Restart-parameters changed but not yet applied: they apply when the resource restarts. */
  pending: Record<string, unknown>;
}

export interface SetParamsResult {
  live: string[];
  pending: string[];
}

export interface HaloEvent {
  seq: number;
  ts: string;
  node: string;
  type: string;
  message: string;
  group?: string;
  resource?: string;
  monitor?: string;
  output?: string;
  details?: Record<string, unknown>;
}

/** What `halo node standby` answers: the groups the node holds, and those that stop for lack of another node. */
export interface StandbyResult {
  held: string[];
  stopping: string[];
}

export interface ClusterOps {
  /** The status document (may ask peers for their half of the last failover first). */
  status(opts?: { peers?: boolean }): unknown | Promise<unknown>;
  /** This node's last timeline half of every group, for peers merging `lastFailover`. */
  timelines(): unknown[];
  /** This node's own phase of every group, for peers showing the cluster-wide state. */
  localGroups(): unknown[];
  move(group: string, to?: string): Promise<void>;
  startGroup(group: string, on?: string): Promise<void>;
  stopGroup(group: string): Promise<void>;
  /**
   * Clears the group's failure marks (only `node`'s, when given) and has the nodes concerned
   * reset the failure counters of its monitors (only those of `resource`) and probe it again.
   */
  cleanup(group: string, opts: { resource?: string; node?: string }): Promise<{ cleared: string[] }>;
  getParams(group: string, resource: string): ParamsView;
  setParams(group: string, resource: string, changes: Record<string, unknown>): Promise<SetParamsResult>;
  /** Node standby on or off (cluster intent); an unknown node is HALO_E_NOT_FOUND. */
  setStandby(node: string, standby: boolean): Promise<StandbyResult>;
  /** Maintenance (unmanaged) of a group, or of the whole cluster when null; an unknown group is HALO_E_NOT_FOUND. */
  setMaintenance(group: string | null, on: boolean): Promise<void>;
  suspendMonitor(name: string): Promise<void>;
  resumeMonitor(name: string): Promise<void>;
  recentEvents(limit: number): HaloEvent[];
  subscribeEvents(listener: (event: HaloEvent) => void): () => void;
  metrics(): string;
}
