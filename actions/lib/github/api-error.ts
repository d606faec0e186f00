import { ActionError, isActionError } from '../errors.js';

/** What a failed octokit call carries (a RequestError from `@octokit/request-error`), read defensively. */
interface RequestErrorLike {
  status?: unknown;
  message?: unknown;
  request?: { method?: unknown; url?: unknown };
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/** The HTTP status of a failed octokit call, or undefined when the error is not one. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as RequestErrorLike).status;
  return typeof status === 'number' ? status : undefined;
}

/** A response header of a failed octokit call (lower-case name). */
export function responseHeader(error: unknown, name: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as RequestErrorLike).response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** The `errors[].code` values of a 422 Validation Failed answer. */
export function validationCodes(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const data = (error as RequestErrorLike).response?.data;
  if (typeof data !== 'object' || data === null) return [];
  const errors = (data as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .map((entry) =>
      typeof entry === 'object' && entry !== null ? (entry as { code?: unknown }).code : undefined,
    )
    .filter((code): code is string => typeof code === 'string');
}

function hint(status: number | undefined, message: string, error: unknown): string {
  if (status === 401) return ' The token is missing, expired or wrong.';
  if (status === 403 && responseHeader(error, 'x-ratelimit-remaining') === '0') {
    const reset = Number(responseHeader(error, 'x-ratelimit-reset'));
    const when =
      Number.isFinite(reset) && reset > 0 ? ` It resets at ${new Date(reset * 1000).toISOString()}.` : '';
    return ` The API rate limit is used up.${when}`;
  }
  if ((status === 403 || status === 429) && /rate limit/i.test(message))
    return ' A rate limit was hit; try later.';
  if (status === 403) {
    return " The token lacks a permission; check the workflow's `permissions:` (issues, pull-requests: write).";
  }
  if (status === 404) return ' It does not exist, or the token cannot see it.';
  if (status !== undefined && status >= 500) return ' GitHub had a server error; rerun the job later.';
  return '';
}

/**
 * Turns a failed GitHub API call into an ActionError (`github-api`) whose message says what was being done,
 * what GitHub answered and what to try. The request's method and URL go to `details`; the token never does
 * (octokit redacts it, and it is not part of the URL).
 */
export function gitHubApiError(error: unknown, doing: string): ActionError {
  if (isActionError(error)) return error;
  const status = httpStatus(error);
  const raw = error instanceof Error ? error.message : String(error);
  const answered = status === undefined ? raw : `GitHub answered ${status}: ${raw}`;
  const details: string[] = [];
  const request =
    typeof error === 'object' && error !== null ? (error as RequestErrorLike).request : undefined;
  if (request && typeof request.method === 'string' && typeof request.url === 'string') {
    details.push(`${request.method} ${request.url}`);
  }
  return new ActionError('github-api', `${doing} failed. ${answered}.${hint(status, raw, error)}`, {
    cause: error,
    details,
  });
}
