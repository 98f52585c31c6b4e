/**
 * Client-side settings of the `cj` CLI, with unit and meaning. These are not engine defaults (the
 * engine's live in shared/domain/config.ts and are what `--set NAME=VALUE` overrides); they only
 * shape how the CLI talks to the HTTP API.
 */
export const CLI_DEFAULTS = {
  /** bytes: largest JSON body of one request carrying essays (inline create or one page), counted as it travels inside the Lambda event (escaped once more); API Gateway and Lambda allow 10 MB / 6 MB of event, the API asks for < 5 MB. The essay count per page is the engine's MAX_ESSAYS_PER_PAGE. */
  UPLOAD_PAGE_MAX_BYTES: 4_000_000,
  /** seconds: how long `cj wait` waits for a terminal status before exiting with EXIT.TIMEOUT. */
  WAIT_TIMEOUT_S: 600,
  /** milliseconds: interval between two state reads in `cj wait`. */
  WAIT_POLL_MS: 1000,
  /** failures in a row: a polling read (wait, status, results, report, demo, dashboard) gives up after this many transient failures (5xx, 429, reset, timeout) without a success between them; with the backoff below that is about 30 s of retrying at the default poll interval, plus the requests' own time. */
  POLL_MAX_CONSECUTIVE_FAILURES: 6,
  /** milliseconds: longest backoff between two attempts of a failed read (it starts at the poll interval and doubles). */
  POLL_RETRY_MAX_DELAY_MS: 15_000,
  /** milliseconds: timeout of one HTTP request to the API. */
  REQUEST_TIMEOUT_MS: 30_000,
  /** characters: width of the progress bar drawn by `cj wait` on a terminal. */
  PROGRESS_BAR_WIDTH: 30,
  /** port: loopback port `cj dashboard` serves its page on (0 picks a free one). */
  DASHBOARD_PORT: 8780,
  /** milliseconds: interval between two refreshes of `cj dashboard` (the page and its reads of the API), a few seconds like the CloudWatch dashboard's shortest auto-refresh. */
  DASHBOARD_REFRESH_MS: 3000,
  /** batches: how many `cj list` shows when no --limit is given (it follows the API's cursors up to the limit). */
  LIST_LIMIT: 50,
  /** stage name: the stack `CjEngine-<stage>` read from a CDK outputs file when no stage is given. */
  STAGE: 'dev',
} as const;
