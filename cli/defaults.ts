/**
 * Client-side settings of the `cj` CLI, with unit and meaning. These are not engine defaults (the
 * engine's live in shared/domain/config.ts and are what `--set NAME=VALUE` overrides); they only
 * shape how the CLI talks to the HTTP API.
 */
export const CLI_DEFAULTS = {
  /** bytes: largest JSON body of one essay upload page; API Gateway and Lambda allow 10 MB / 6 MB, the API asks for < 5 MB. */
  UPLOAD_PAGE_MAX_BYTES: 4_000_000,
  /** essays: most essays in one upload page, so one page stays a short request for the add-essays function. */
  UPLOAD_PAGE_MAX_ESSAYS: 500,
  /** bytes: a batch whose essays serialize above this (or above UPLOAD_PAGE_MAX_ESSAYS) is uploaded in pages. */
  INLINE_UPLOAD_MAX_BYTES: 4_000_000,
  /** seconds: how long `cj wait` waits for a terminal status before exiting with EXIT.TIMEOUT. */
  WAIT_TIMEOUT_S: 600,
  /** milliseconds: interval between two state reads in `cj wait`. */
  WAIT_POLL_MS: 1000,
  /** milliseconds: timeout of one HTTP request to the API. */
  REQUEST_TIMEOUT_MS: 30_000,
  /** characters: width of the progress bar drawn by `cj wait` on a terminal. */
  PROGRESS_BAR_WIDTH: 30,
  /** stage name: the stack `CjEngine-<stage>` read from a CDK outputs file when no stage is given. */
  STAGE: 'dev',
} as const;
