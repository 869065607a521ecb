import { type ErrorCode, HaloError } from '../../errors.js';
import { formatDuration } from '../../util/duration.js';

/**
 * How an EC2 call ended badly. The first four are *transient*: the API did not give an
 * answer about our resource (unreachable, slow, throttled, failing itself), so retrying —
 * not failing over — is the sensible reaction. `rejected` is a definitive answer (bad id,
 * missing permission, conflict); `cancelled` means our own signal ended the call.
 */
export type Ec2Failure = 'timeout' | 'unreachable' | 'throttled' | 'server' | 'rejected' | 'cancelled';

const TRANSIENT: ReadonlySet<Ec2Failure> = new Set(['timeout', 'unreachable', 'throttled', 'server']);

/** AWS error codes that mean "slow down" (EC2 API reference, "Error codes"). */
const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'SlowDown',
]);

/** Node/undici socket errors that mean the endpoint could not be talked to. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The error code users see for each kind of failure: one they can search for. */
function ec2ErrorCode(failure: Ec2Failure): ErrorCode {
  if (failure === 'timeout') return 'HALO_E_CLOUD_CALL_TIMEOUT';
  if (failure === 'rejected') return 'HALO_E_CLOUD_CALL_REJECTED';
  return 'HALO_E_CLOUD_CALL_FAILED';
}

export class Ec2Error extends HaloError {
  readonly op: string;
  readonly failure: Ec2Failure;
  /** The AWS error code (e.g. `InvalidRouteTableID.NotFound`) when the API answered. */
  readonly awsCode: string | undefined;

  constructor(op: string, failure: Ec2Failure, message: string, awsCode?: string, cause?: unknown) {
    super(
      ec2ErrorCode(failure),
      message,
      { op, failure, ...(awsCode ? { awsCode } : {}) },
      cause === undefined ? undefined : { cause },
    );
    this.name = 'Ec2Error';
    this.op = op;
    this.failure = failure;
    this.awsCode = awsCode;
  }

  get transient(): boolean {
    return TRANSIENT.has(this.failure);
  }
}

export function isTransientEc2Error(err: unknown): boolean {
  return err instanceof Ec2Error && err.transient;
}

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/** Turns whatever one SDK attempt threw into an Ec2Error (never throws). */
export function classifyEc2Error(op: string, err: unknown): Ec2Error {
  if (err instanceof Ec2Error) return err;
  const e = (err ?? {}) as SdkLikeError;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const netCode = networkCode(err);
  if (netCode !== undefined) {
    return new Ec2Error(
      op,
      'unreachable',
      `EC2 ${op}: the API endpoint cannot be reached (${netCode})`,
      undefined,
      err,
    );
  }
  if (name === 'TimeoutError' || name === 'RequestTimeout') {
    return new Ec2Error(op, 'timeout', `EC2 ${op}: the API did not answer in time`, undefined, err);
  }
  if (THROTTLING.has(name) || status === 429) {
    return new Ec2Error(
      op,
      'throttled',
      `EC2 ${op} was throttled (${name || status}): ${message}`,
      name,
      err,
    );
  }
  if ((status !== undefined && status >= 500) || e.$fault === 'server') {
    return new Ec2Error(
      op,
      'server',
      `EC2 ${op} failed on the AWS side (${name || status}): ${message}`,
      name,
      err,
    );
  }
  if (/region is missing/i.test(message)) {
    return new Ec2Error(
      op,
      'rejected',
      `EC2 ${op}: no AWS region; set "region" on the resource or AWS_REGION in the agent's environment`,
      undefined,
      err,
    );
  }
  if (status !== undefined || e.$fault === 'client') {
    return new Ec2Error(
      op,
      'rejected',
      `EC2 ${op} was rejected: ${name}: ${message}`,
      name || undefined,
      err,
    );
  }
  // Credential-chain and unexpected errors: not an answer about our resource, but not worth retrying blindly either.
  if (name === 'CredentialsProviderError') {
    return new Ec2Error(
      op,
      'rejected',
      `EC2 ${op}: no AWS credentials (${message}); give the instance an IAM role or set AWS_* variables for the agent`,
      name,
      err,
    );
  }
  return new Ec2Error(op, 'unreachable', `EC2 ${op} failed: ${message}`, undefined, err);
}

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 4 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as SdkLikeError).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    cur = (cur as SdkLikeError).cause;
  }
  return undefined;
}

export function budgetExceeded(op: string, budgetMs: number, last?: Ec2Error): Ec2Error {
  const tail = last && last.failure !== 'timeout' ? ` (last attempt: ${last.message})` : '';
  return new Ec2Error(
    op,
    last && last.failure !== 'timeout' ? last.failure : 'timeout',
    `EC2 ${op} did not answer within ${formatDuration(budgetMs)} (callTimeout)${tail}`,
    last?.awsCode,
    last,
  );
}
