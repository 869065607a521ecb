import { MAX_CONFIG_BYTES } from '../config/load.js';

/** Fastify's default request body limit (1 MiB); PUT /v1/config raises its own. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The YAML travels as a JSON string (escaping can double it): room for a config at the limit. */
export const CONFIG_PUSH_BODY_LIMIT = 2 * MAX_CONFIG_BYTES + 64 * 1024;
