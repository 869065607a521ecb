import { paths } from './openapi-paths.js';
import { schemas } from './openapi-schemas.js';

export { schemas };

/**
 * The OpenAPI 3.1 document of the REST API. Route schemas in server.ts are taken from here,
 * so fastify validates requests against exactly what is published at /openapi.json, and the
 * tests validate responses against it too.
 */

export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Halo API',
      version,
      description: 'Status and operations of a Halo cluster, served by every agent.',
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
