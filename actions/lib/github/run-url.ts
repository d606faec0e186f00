/**
 * The URL of the current workflow run (and attempt), for comments, issues and summaries:
 * `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}[/attempts/${GITHUB_RUN_ATTEMPT}]`.
 * Undefined outside a workflow run.
 */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const server = env.GITHUB_SERVER_URL?.trim().replace(/\/+$/, '');
  const repository = env.GITHUB_REPOSITORY?.trim();
  const runId = env.GITHUB_RUN_ID?.trim();
  if (!server || !repository || !runId || !/^\d+$/.test(runId)) return undefined;
  const base = `${server}/${repository}/actions/runs/${runId}`;
  const attempt = env.GITHUB_RUN_ATTEMPT?.trim();
  return attempt && /^[1-9]\d*$/.test(attempt) ? `${base}/attempts/${attempt}` : base;
}
