import { ERRORS, type ErrorCode } from '../errors.js';

/** CLI exit code for each kind (src/cli/run-cli.ts). */
const EXIT_CODE = { user: 2, operational: 1, internal: 1 } as const;

/**
 * docs/errors.md: every error code Halo reports, generated from the registry in src/errors.ts
 * so the page can never miss a code or disagree with the code's kind and status.
 */
export function renderErrorDocs(): string {
  const codes = Object.keys(ERRORS) as ErrorCode[];
  const index = codes.map(
    (code) => `| [\`${code}\`](#${code.toLowerCase()}) | ${ERRORS[code].kind} | ${ERRORS[code].httpStatus} |`,
  );
  const sections = codes.map((code) => {
    const e = ERRORS[code];
    return [
      `## ${code}`,
      '',
      e.summary,
      '',
      `- **What to do:** ${e.next}`,
      `- **Kind:** ${e.kind} (CLI exit code ${EXIT_CODE[e.kind]}), **HTTP status:** ${e.httpStatus}`,
      '',
    ].join('\n');
  });
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/errors.ts by `npm run schema`; a test fails when this file is stale. Do not edit. -->',
    '',
    'Every error Halo reports on the command line and in API responses (`{ "code", "message", "details" }`)',
    'carries one of these stable codes. Search this page for the code you see.',
    'The CLI exits with 2 for `user` errors (fix the command or the configuration) and 1 for the others.',
    '',
    '| code | kind | HTTP |',
    '|---|---|---|',
    ...index,
    '',
    ...sections,
  ]
    .join('\n')
    .trimEnd()
    .concat('\n');
}
