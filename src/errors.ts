/**
 * One registry of every error Halo reports across a process or network boundary.
 * Each code is stable (scripts match on it), has an HTTP status for the API, and the CLI
 * maps `user` errors to exit code 2 and `operational` ones to exit code 1.
 */
export type ErrorKind = 'user' | 'operational' | 'internal';

interface ErrorSpec {
  readonly kind: ErrorKind;
  readonly httpStatus: number;
  readonly summary: string;
}

export const ERRORS = {
  HALO_E_USAGE: { kind: 'user', httpStatus: 400, summary: 'the command line is not valid' },
  HALO_E_CONFIG_READ: { kind: 'user', httpStatus: 400, summary: 'the configuration file cannot be read' },
  HALO_E_CONFIG_INVALID: { kind: 'user', httpStatus: 400, summary: 'the configuration file is not valid' },
  HALO_E_SECRET: { kind: 'user', httpStatus: 400, summary: 'a key or token file is missing or unsafe' },
  HALO_E_BAD_REQUEST: { kind: 'user', httpStatus: 400, summary: 'the request is not valid' },
  HALO_E_UNAUTHORIZED: { kind: 'user', httpStatus: 401, summary: 'a valid API token is required' },
  HALO_E_FORBIDDEN: { kind: 'user', httpStatus: 403, summary: 'this token may only read' },
  HALO_E_NOT_FOUND: { kind: 'user', httpStatus: 404, summary: 'no such object' },
  HALO_E_CONFLICT: {
    kind: 'operational',
    httpStatus: 409,
    summary: 'the request conflicts with the cluster state',
  },
  HALO_E_NO_QUORUM: { kind: 'operational', httpStatus: 503, summary: 'this node has no quorum' },
  HALO_E_AGENT_UNREACHABLE: { kind: 'operational', httpStatus: 502, summary: 'the agent cannot be reached' },
  HALO_E_RESOURCE_FAILED: { kind: 'operational', httpStatus: 500, summary: 'a resource operation failed' },
  HALO_E_TIMEOUT: { kind: 'operational', httpStatus: 504, summary: 'an operation did not finish in time' },
  HALO_E_PERMISSION: {
    kind: 'operational',
    httpStatus: 500,
    summary: 'the operation needs privileges this process lacks',
  },
  HALO_E_INTERNAL: { kind: 'internal', httpStatus: 500, summary: 'an unexpected internal error' },
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
