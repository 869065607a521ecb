/**
 * One registry of every error Halo reports across a process or network boundary. Each code is
 * stable (scripts and users search for it), names one situation, and carries what a user needs
 * to act: a summary, what to do next, its kind (the CLI exits 2 for `user` errors, 1 otherwise)
 * and the HTTP status the API answers with. docs/errors.md is generated from this table
 * (`npm run schema`); a test fails when it is stale.
 */
export type ErrorKind = 'user' | 'operational' | 'internal';

export interface ErrorSpec {
  readonly kind: ErrorKind;
  readonly httpStatus: number;
  /** When this code is raised, in one line. */
  readonly summary: string;
  /** What to do about it. */
  readonly next: string;
}

export const ERRORS = {
  // Command line, configuration and secrets.
  HALO_E_USAGE: {
    kind: 'user',
    httpStatus: 400,
    summary: 'The command line is not valid (unknown command, option or argument).',
    next: 'Run `halo --help` or `halo COMMAND --help` and fix the command line.',
  },
  HALO_E_CONFIG_READ: {
    kind: 'user',
    httpStatus: 400,
    summary: 'The configuration file cannot be read.',
    next: 'Check the path given with `-c` (default /etc/halo/halo.yaml) and that this user may read it.',
  },
  HALO_E_CONFIG_INVALID: {
    kind: 'user',
    httpStatus: 400,
    summary: 'The configuration is not valid; the message lists every problem with its line and path.',
    next: 'Fix each listed key (docs/configuration.md) and check with `halo config validate FILE`.',
  },
  HALO_E_OCF_AGENT: {
    kind: 'user',
    httpStatus: 400,
    summary:
      'An OCF resource agent named on the command line is not installed or prints no usable meta-data.',
    next: 'Check the name (ocf:PROVIDER:TYPE) and OCF_ROOT (default /usr/lib/ocf); Debian ships the common agents in the package resource-agents.',
  },
  HALO_E_IMPORT: {
    kind: 'user',
    httpStatus: 400,
    summary:
      '`halo import` cannot read its input, or the input is not a Pacemaker CIB or keepalived configuration.',
    next: 'Give the XML that `pcs cluster cib` or `cibadmin -Q` prints, or a keepalived.conf that `keepalived -t -f FILE` accepts.',
  },
  HALO_E_SECRET: {
    kind: 'user',
    httpStatus: 400,
    summary: 'A key, token or password file is missing, empty or readable by other users.',
    next: 'Create the file the message names and make it private (`chmod 600 FILE`).',
  },
  // API requests.
  HALO_E_BAD_REQUEST: {
    kind: 'user',
    httpStatus: 400,
    summary: 'An API request is not valid (body, parameter or value).',
    next: 'Fix the request as the message says; the API reference is served at /openapi.json.',
  },
  HALO_E_BODY_TOO_LARGE: {
    kind: 'user',
    httpStatus: 413,
    summary:
      'An API request body is larger than the API accepts (1 MiB; a pushed config may be up to 4 MiB as YAML).',
    next: 'Send a smaller body; for `halo config push`, keep the config file under 4 MiB.',
  },
  HALO_E_UNAUTHORIZED: {
    kind: 'user',
    httpStatus: 401,
    summary: 'The API request carries no token, or a wrong one.',
    next: 'Send `Authorization: Bearer TOKEN` with the token from cluster.api.tokenFile (the CLI does this itself).',
  },
  HALO_E_FORBIDDEN: {
    kind: 'user',
    httpStatus: 403,
    summary: 'A read-only token was used for an operation that changes the cluster.',
    next: 'Use the read-write token (cluster.api.tokenFile).',
  },
  HALO_E_NOT_FOUND: {
    kind: 'user',
    httpStatus: 404,
    summary: 'No group, resource, monitor, node or route with that name.',
    next: 'Check the name against `halo status` or the configuration.',
  },
  HALO_E_CONFLICT: {
    kind: 'operational',
    httpStatus: 409,
    summary:
      'The request conflicts with the cluster state (e.g. a group that is moving, a stale config epoch).',
    next: 'Read the current state (`halo status`), then retry the operation if it still applies.',
  },
  // Cluster and agent.
  HALO_E_NO_QUORUM: {
    kind: 'operational',
    httpStatus: 503,
    summary: 'This node cannot reach a majority of the votes, so it may not own groups or store intent.',
    next: 'Check that the other nodes and the witness (or etcd) are up and reachable (`halo doctor`).',
  },
  HALO_E_STATE_WRITE_FAILED: {
    kind: 'operational',
    httpStatus: 503,
    summary:
      'This node cannot write its state directory (no space, I/O error, read-only), so it refused the change before any node applied it.',
    next: 'Free space in or repair the state directory (`halo doctor` checks it; `halo status` shows `stateDir`), then retry; or send the request to another node.',
  },
  HALO_E_LISTEN_FAILED: {
    kind: 'operational',
    httpStatus: 500,
    summary:
      "The agent cannot listen on this node's address (not configured on this machine, or the port is in use); it exits.",
    next: 'Check that --node names this machine and that its address (`ip addr`) and ports are free, then restart the agent.',
  },
  HALO_E_AGENT_UNREACHABLE: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'The agent of a node did not answer.',
    next: 'Check that the agent runs on that node (`systemctl status halo-agent`) and that its API port is reachable.',
  },
  HALO_E_TIMEOUT: {
    kind: 'operational',
    httpStatus: 504,
    summary: 'Waiting for the cluster, an agent or the deadman helper took longer than allowed.',
    next: 'Check `halo status` and the events for what is still in progress, then retry.',
  },
  HALO_E_PERMISSION: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'The operation needs privileges this process lacks (root, CAP_NET_ADMIN, a writable directory).',
    next: 'Run the agent as root, or grant the capability the message names.',
  },
  // Resources.
  HALO_E_RESOURCE_START_FAILED: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'A resource did not start: its start command failed or its program exited while starting.',
    next: 'Read the output in the message and the events (`halo events`), fix the cause, then `halo resource start`.',
  },
  HALO_E_RESOURCE_STOP_FAILED: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'A resource did not stop: its stop command failed.',
    next: 'Fix the cause shown in the output. Meanwhile the node lets its lease run out, so the deadman helper stops the group before another node takes it over.',
  },
  HALO_E_RESOURCE_START_TIMEOUT: {
    kind: 'operational',
    httpStatus: 504,
    summary: 'A resource was not running within its start time limit; its process tree was killed.',
    next: 'Find out why it is slow (its output is in the events), or raise timeout.start of the resource.',
  },
  HALO_E_RESOURCE_STOP_TIMEOUT: {
    kind: 'operational',
    httpStatus: 504,
    summary: 'A resource did not stop within its stop time limit; its process tree was killed.',
    next: 'Raise timeout.stop if the program needs longer to shut down cleanly.',
  },
  HALO_E_RESOURCE_CANCELLED: {
    kind: 'operational',
    httpStatus: 503,
    summary:
      'A resource operation was cancelled: the node lost the group (demoted) or the agent is stopping.',
    next: 'Usually nothing: the group continues on the node that owns it. See the events for why this node let go.',
  },
  HALO_E_RESOURCE_UNKILLABLE: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'Processes of a resource survived SIGKILL (stuck in the kernel); the node must fence itself.',
    next: 'Look for processes in state D (`ps -eo pid,stat,cmd`) and the storage or driver they wait on.',
  },
  HALO_E_PARAM_APPLY_FAILED: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'Applying a changed live parameter to a running resource failed; the old value stays in effect.',
    next: 'Read the reason in the message; fix the value and push the configuration again.',
  },
  HALO_E_COMMAND_NOT_FOUND: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'A program a resource needs is not installed on this node.',
    next: 'Install the package the message names (e.g. iproute2); `halo doctor` lists missing programs.',
  },
  HALO_E_INTERFACE_NOT_FOUND: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'The network interface named by a resource does not exist on this node.',
    next: 'Check the `device` parameter against `ip link show` on that node.',
  },
  HALO_E_IP_COMMAND_FAILED: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'Adding or removing an address with `ip addr` failed.',
    next: 'Read the error of `ip` in the message; check the address, prefix and device.',
  },
  HALO_E_LB_FRONTEND_IP_MISSING: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'An lb-probe resource answers for a frontend IP that is not on any interface of this node.',
    next: "Add an `ip` resource for the frontend IP (device: lo) and list it in the lb-probe resource's `after`.",
  },
  HALO_E_PROBE_PORT_UNAVAILABLE: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'An lb-probe resource cannot listen on its probe port (in use, or not allowed).',
    next: 'Free the port (`ss -ltnp`) or pick another probePort; ports below 1024 need root.',
  },
  // Cloud APIs.
  HALO_E_CLOUD_CALL_FAILED: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'A cloud API call failed for a reason that may pass: unreachable, throttled, a server error.',
    next: 'Usually nothing: the resource retries on its reconcile loop. If it persists, check the endpoint and network.',
  },
  HALO_E_CLOUD_CALL_REJECTED: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'The cloud API refused a call (permissions, an id that does not exist, invalid parameters).',
    next: 'Read the AWS error code in the message; fix the IAM policy of the instance role or the ids in the configuration.',
  },
  HALO_E_CLOUD_CALL_TIMEOUT: {
    kind: 'operational',
    httpStatus: 504,
    summary: 'A cloud API call did not answer within callTimeout.',
    next: 'Check the path to the API endpoint; raise callTimeout if the API is slow from this network.',
  },
  HALO_E_CLOUD_NOT_FOUND: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'A cloud object the configuration names (e.g. a route table) was not returned by the API.',
    next: 'Check the id and the region of the resource.',
  },
  HALO_E_CLOUD_ROUTE_BLACKHOLE: {
    kind: 'operational',
    httpStatus: 502,
    summary:
      "A VPC route points at this node's network interface but is a blackhole (the ENI is not attached to a running instance).",
    next: 'Check the `eni` of this node: it must belong to this running instance.',
  },
  HALO_E_CLOUD_METADATA_UNAVAILABLE: {
    kind: 'operational',
    httpStatus: 502,
    summary: "This instance's network interface could not be found through the instance metadata service.",
    next: 'Set `eni` for every node, or enable IMDSv2 (hop limit 2 or more inside containers).',
  },
  // DNS.
  HALO_E_DNS_UPDATE_REFUSED: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'The DNS server refused a dynamic update or query, or its signed answer did not verify.',
    next: "Read the RCODE/TSIG error in the message: check the key name, secret and algorithm, and the zone's update policy.",
  },
  HALO_E_DNS_NOT_APPLIED: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'The DNS server accepted an update but then answered with other addresses.',
    next: 'Check for another writer of the name (a second cluster, a DHCP updater) and for the right server and zone.',
  },
  HALO_E_DNS_TIMEOUT: {
    kind: 'operational',
    httpStatus: 504,
    summary: 'The DNS server did not answer within callTimeout.',
    next: 'Check the server address and port and that UDP to it is allowed; raise callTimeout if the server is slow.',
  },
  HALO_E_DNS_UNREACHABLE: {
    kind: 'operational',
    httpStatus: 502,
    summary: 'The DNS server cannot be reached (no route, connection refused).',
    next: 'Check the server address and port and the network path to it.',
  },
  HALO_E_DNS_NO_ADDRESS: {
    kind: 'user',
    httpStatus: 400,
    summary: 'A dns resource has no address for the node it is starting on.',
    next: "Add the node to the resource's `addresses` map.",
  },
  // Demo.
  HALO_E_DEMO_START_FAILED: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'A process of the local demo cluster exited while starting.',
    next: 'Read the log file the message names.',
  },
  HALO_E_INTERNAL: {
    kind: 'internal',
    httpStatus: 500,
    summary: 'An unexpected internal error (a bug, or a failure Halo has no specific code for yet).',
    next: 'Report it with the message and the agent log.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Serialised form of an error as it crosses the API or a process boundary. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class HaloError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HaloError';
    this.code = code;
    this.details = details;
  }

  get kind(): ErrorKind {
    return ERRORS[this.code].kind;
  }

  get httpStatus(): number {
    return ERRORS[this.code].httpStatus;
  }

  toJSON(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isHaloError(err: unknown): err is HaloError {
  return err instanceof HaloError;
}

/** Any thrown value as an ErrorBody, hiding internals of unexpected errors behind HALO_E_INTERNAL. */
export function toErrorBody(err: unknown): ErrorBody {
  if (isHaloError(err)) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'HALO_E_INTERNAL', message };
}
