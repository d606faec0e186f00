/**
 * A stand-in for the GitHub REST API, served over real HTTP on 127.0.0.1 so that the real octokit talks to it.
 *
 * It follows GitHub's documented contract for the endpoints the actions use: real paths and methods, status
 * codes (200/201/204/401/404/422), `application/json; charset=utf-8`, GitHub's error bodies (`message`,
 * `documentation_url` and `status`, the code as a string, as GitHub sends it), `Link` header
 * pagination (`per_page` default 30, max 100), `url`/`html_url` on objects, increasing ids, ISO timestamps and
 * rate-limit headers. Pull requests share the issue number space and appear in the issues API with a
 * `pull_request` key. Every request is recorded (without the Authorization value) so tests can assert on what
 * was asked.
 *
 * Endpoints:
 *   GET    /repos/{o}/{r}
 *   GET    /repos/{o}/{r}/issues                      state, labels (comma-separated, AND), sort, direction
 *   POST   /repos/{o}/{r}/issues
 *   GET    /repos/{o}/{r}/issues/{n}
 *   PATCH  /repos/{o}/{r}/issues/{n}
 *   GET    /repos/{o}/{r}/issues/{n}/comments
 *   POST   /repos/{o}/{r}/issues/{n}/comments
 *   GET    /repos/{o}/{r}/issues/comments/{id}
 *   PATCH  /repos/{o}/{r}/issues/comments/{id}
 *   DELETE /repos/{o}/{r}/issues/comments/{id}
 *   GET    /repos/{o}/{r}/issues/{n}/labels
 *   POST   /repos/{o}/{r}/issues/{n}/labels           {labels: [...]} or [...]; unknown labels are created
 *   GET    /repos/{o}/{r}/labels
 *   POST   /repos/{o}/{r}/labels
 *   GET    /repos/{o}/{r}/labels/{name}
 *   GET    /repos/{o}/{r}/commits/{sha}/pulls         see below
 *   GET    /repos/{o}/{r}/pulls/{n}
 *
 * Differences from github.com worth knowing: there is one authenticated identity (`login`, default
 * `github-actions[bot]`); without an Authorization header the answer is 401 `Requires authentication`, with a
 * malformed one or (when `token` is seeded) a different token it is 401 `Bad credentials`.
 *
 * `GET /commits/{sha}/pulls`: the stand-in has no git objects, so it knows exactly the commits it was seeded
 * with (each pull request's head sha, merge commit sha and listed `commits`). Any other sha is unknown and
 * answers 422 `No commit found for SHA: <sha>`, as GitHub does. A merge commit sha of a merged pull request into
 * the default branch (`main`) counts as on the default branch: like GitHub, it then lists only merged pull
 * requests (the ones it merged, and merged ones that contain it), never open or closed unmerged ones. For any
 * other known sha it lists every pull request whose merge commit, head or listed commits is that sha, open,
 * closed or merged.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, recordedHeaders } from './http-recording.js';

export const DEFAULT_REPO = 'spark/spark-infra';
export const DEFAULT_LOGIN = 'github-actions[bot]';
export const MAX_BODY_LENGTH = 65_536;
const DOCS = 'https://docs.github.com/rest';
/** Every repository's default branch, and the default base of a seeded pull request. */
export const DEFAULT_BRANCH = 'main';

// ---------------------------------------------------------------------------------------------------------
// Seed

export interface SeedComment {
  body: string;
  /** Login of the author; a login ending in `[bot]` is a Bot. Default: the authenticated identity. */
  user?: string;
  createdAt?: string;
}

export interface SeedLabel {
  name: string;
  color?: string;
  description?: string;
}

export interface SeedIssue {
  number?: number;
  title: string;
  body?: string;
  state?: 'open' | 'closed';
  stateReason?: string | null;
  labels?: string[];
  user?: string;
  createdAt?: string;
  comments?: SeedComment[];
}

export interface SeedPull {
  number?: number;
  title?: string;
  body?: string;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  baseSha?: string;
  /** Default: `closed` when merged, else `open`. */
  state?: 'open' | 'closed';
  mergedAt?: string | null;
  mergeCommitSha?: string | null;
  /**
   * Further commit shas of the PR, found by `GET /commits/{sha}/pulls`. With `headSha` and `mergeCommitSha` they
   * are the commits the stand-in knows; any other sha is unknown to it (422 No commit found).
   */
  commits?: string[];
  labels?: string[];
  user?: string;
  draft?: boolean;
  createdAt?: string;
  comments?: SeedComment[];
}

export interface SeedRepo {
  labels?: Array<string | SeedLabel>;
  issues?: SeedIssue[];
  pulls?: SeedPull[];
}

export interface GitHubApiSeed {
  /** Repositories by `owner/name`. Default: one empty repository, {@link DEFAULT_REPO}. */
  repos?: Record<string, SeedRepo>;
  /** Serve under a path prefix, GitHub Enterprise Server style (for example `/api/v3`). */
  basePath?: string;
  /** When set, only this token is accepted. */
  token?: string;
  /** The authenticated identity. Default {@link DEFAULT_LOGIN}. */
  login?: string;
  /** Base of `html_url`s. Default `https://github.com`. */
  serverUrl?: string;
}

// ---------------------------------------------------------------------------------------------------------
// State

export interface UserRecord {
  login: string;
  id: number;
  type: 'User' | 'Bot';
}

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface CommentRecord {
  id: number;
  issueNumber: number;
  body: string;
  user: UserRecord;
  createdAt: string;
  updatedAt: string;
}

export interface PullData {
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  commits: string[];
  draft: boolean;
}

export interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: string | null;
  /** Label names, in the order they were added. */
  labels: string[];
  user: UserRecord;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Present when this number is a pull request. */
  pull?: PullData;
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  labels: LabelRecord[];
  issues: IssueRecord[];
  comments: CommentRecord[];
}

export interface RecordedRequest {
  method: string;
  /** The path as received, including any base path. */
  path: string;
  /** The path without the base path, as in GitHub's documentation. */
  apiPath: string;
  query: Record<string, string>;
  /** Lower-cased request headers; `authorization` is replaced by `[redacted]` when it was sent. */
  headers: Record<string, string>;
  /** Whether an Authorization header was sent. */
  authorization: boolean;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** The status the stand-in answered with. */
  status: number;
  /** Whether the answer came from {@link GitHubApiState.failNext}. */
  injected: boolean;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function key(fullName: string) {
  return fullName.toLowerCase();
}

export class GitHubApiState {
  readonly repos = new Map<string, RepoRecord>();
  readonly faults: Fault[] = [];
  readonly login: string;
  private nextId = { repo: 1000, issue: 5000, comment: 9000, label: 300, user: 40 };
  private readonly users = new Map<string, UserRecord>();

  constructor(login = DEFAULT_LOGIN) {
    this.login = login;
  }

  /**
   * The next request whose method (or `*`) and API path (without base path) match answers `status` with
   * `headers` and a GitHub-style error body (or `body`). Faults are used once each, first in first out.
   * Rate limits: `failNext('GET', /comments/, 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': ... })`
   * or `failNext('POST', /comments/, 429, { 'retry-after': '3' })`.
   */
  failNext(
    method: string,
    path: RegExp | string,
    status: number,
    headers: Record<string, string> = {},
    body?: unknown,
  ) {
    const pattern =
      typeof path === 'string' ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : path;
    this.faults.push({ method: method.toUpperCase(), path: pattern, status, headers, body });
  }

  takeFault(method: string, apiPath: string): Fault | undefined {
    const index = this.faults.findIndex(
      (fault) => (fault.method === '*' || fault.method === method) && fault.path.test(apiPath),
    );
    if (index < 0) return undefined;
    return this.faults.splice(index, 1)[0];
  }

  user(login: string = this.login): UserRecord {
    let user = this.users.get(login);
    if (!user) {
      user = { login, id: this.nextId.user++, type: login.endsWith('[bot]') ? 'Bot' : 'User' };
      this.users.set(login, user);
    }
    return user;
  }

  addRepo(fullName: string, seed: SeedRepo = {}): RepoRecord {
    const [owner, name, ...rest] = fullName.split('/');
    if (!owner || !name || rest.length > 0)
      throw new Error(`repository must be owner/name, got '${fullName}'`);
    if (this.repos.has(key(fullName))) throw new Error(`repository ${fullName} exists already`);
    const repo: RepoRecord = {
      id: this.nextId.repo++,
      owner,
      name,
      fullName,
      labels: [],
      issues: [],
      comments: [],
    };
    this.repos.set(key(fullName), repo);
    for (const label of seed.labels ?? []) {
      const spec = typeof label === 'string' ? { name: label } : label;
      this.ensureLabel(repo, spec.name, spec.color, spec.description);
    }
    for (const issue of seed.issues ?? []) this.addIssue(fullName, issue);
    for (const pull of seed.pulls ?? []) this.addPull(fullName, pull);
    return repo;
  }

  repo(fullName: string): RepoRecord {
    const repo = this.findRepo(fullName);
    if (!repo) throw new Error(`no repository ${fullName} in the GitHub API stand-in`);
    return repo;
  }

  findRepo(fullName: string): RepoRecord | undefined {
    return this.repos.get(key(fullName));
  }

  issue(fullName: string, number: number): IssueRecord | undefined {
    return this.repo(fullName).issues.find((issue) => issue.number === number);
  }

  /** Comments on an issue or pull request, oldest first. */
  comments(fullName: string, issueNumber: number): CommentRecord[] {
    return this.repo(fullName).comments.filter((comment) => comment.issueNumber === issueNumber);
  }

  addIssue(fullName: string, seed: SeedIssue): IssueRecord {
    const repo = this.repo(fullName);
    const issue = this.newIssue(repo, {
      number: seed.number,
      title: seed.title,
      body: seed.body ?? null,
      user: seed.user,
      createdAt: seed.createdAt,
      labels: seed.labels,
    });
    if (seed.state === 'closed') {
      issue.state = 'closed';
      issue.stateReason = seed.stateReason ?? 'completed';
      issue.closedAt = issue.createdAt;
    }
    for (const comment of seed.comments ?? []) this.addComment(fullName, issue.number, comment.body, comment);
    return issue;
  }

  addPull(fullName: string, seed: SeedPull): IssueRecord {
    const repo = this.repo(fullName);
    const issue = this.newIssue(repo, {
      number: seed.number,
      title: seed.title ?? `Pull request ${seed.headSha.slice(0, 7)}`,
      body: seed.body ?? null,
      user: seed.user,
      createdAt: seed.createdAt,
      labels: seed.labels,
    });
    const mergedAt = seed.mergedAt ?? null;
    issue.pull = {
      headSha: seed.headSha,
      headRef: seed.headRef ?? `feature-${issue.number}`,
      baseRef: seed.baseRef ?? DEFAULT_BRANCH,
      baseSha: seed.baseSha ?? '0'.repeat(40),
      mergedAt,
      mergeCommitSha: seed.mergeCommitSha ?? null,
      commits: seed.commits ?? [],
      draft: seed.draft ?? false,
    };
    const state = seed.state ?? (mergedAt ? 'closed' : 'open');
    if (state === 'closed') {
      issue.state = 'closed';
      issue.closedAt = mergedAt ?? issue.createdAt;
    }
    for (const comment of seed.comments ?? []) this.addComment(fullName, issue.number, comment.body, comment);
    return issue;
  }

  addComment(
    fullName: string,
    issueNumber: number,
    body: string,
    options: { user?: string; createdAt?: string } = {},
  ): CommentRecord {
    const repo = this.repo(fullName);
    const issue = repo.issues.find((candidate) => candidate.number === issueNumber);
    if (!issue) throw new Error(`no issue #${issueNumber} in ${fullName}`);
    const at = options.createdAt ?? now();
    const comment: CommentRecord = {
      id: this.nextId.comment++,
      issueNumber,
      body,
      user: this.user(options.user),
      createdAt: at,
      updatedAt: at,
    };
    repo.comments.push(comment);
    issue.updatedAt = at;
    return comment;
  }

  ensureLabel(repo: RepoRecord, name: string, color?: string, description?: string | null): LabelRecord {
    const existing = repo.labels.find((label) => label.name.toLowerCase() === name.toLowerCase());
    if (existing) return existing;
    const label: LabelRecord = {
      id: this.nextId.label++,
      name,
      color: (color ?? 'ededed').replace(/^#/, ''),
      description: description ?? null,
    };
    repo.labels.push(label);
    return label;
  }

  private newIssue(
    repo: RepoRecord,
    spec: {
      number: number | undefined;
      title: string;
      body: string | null;
      user: string | undefined;
      createdAt: string | undefined;
      labels: string[] | undefined;
    },
  ): IssueRecord {
    const number = spec.number ?? Math.max(0, ...repo.issues.map((issue) => issue.number)) + 1;
    if (repo.issues.some((issue) => issue.number === number)) {
      throw new Error(
        `#${number} exists already in ${repo.fullName} (issues and pull requests share numbers)`,
      );
    }
    const at = spec.createdAt ?? now();
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      number,
      title: spec.title,
      body: spec.body,
      state: 'open',
      stateReason: null,
      labels: [],
      user: this.user(spec.user),
      createdAt: at,
      updatedAt: at,
      closedAt: null,
    };
    for (const name of spec.labels ?? []) this.attachLabel(repo, issue, name);
    repo.issues.push(issue);
    return issue;
  }

  attachLabel(repo: RepoRecord, issue: IssueRecord, name: string) {
    const label = this.ensureLabel(repo, name);
    if (!issue.labels.some((existing) => existing.toLowerCase() === label.name.toLowerCase())) {
      issue.labels.push(label.name);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Server

export interface GitHubApi {
  /** Base URL to give octokit (`baseUrl`) or GITHUB_API_URL, including any base path. No trailing slash. */
  url: string;
  state: GitHubApiState;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * GitHub's error body: `message`, any further fields (`errors`), `documentation_url`, and `status`, the HTTP
 * status code as a string.
 */
function errorBody(
  status: number,
  message: string,
  documentationUrl = DOCS,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { message, ...extra, documentation_url: documentationUrl, status: String(status) };
}

class HttpError {
  readonly body: Record<string, unknown>;

  constructor(
    readonly status: number,
    message: string,
    documentationUrl = DOCS,
    extra: Record<string, unknown> = {},
  ) {
    this.body = errorBody(status, message, documentationUrl, extra);
  }
}

const notFound = () => new HttpError(404, 'Not Found');

function validationFailed(resource: string, code: string, field: string, message?: string) {
  const error: Record<string, string> = { resource, code, field };
  if (message) error.message = message;
  return new HttpError(422, 'Validation Failed', DOCS, { errors: [error] });
}

const COMMIT_PULLS_DOCS =
  'https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit';

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Context {
  method: string;
  apiPath: string;
  query: URLSearchParams;
  body: unknown;
  /** `http://host:port` + base path. */
  apiBase: string;
  /** `http://host:port` + raw path, for Link headers. */
  selfUrl: string;
}

export async function startGitHubApi(seed: GitHubApiSeed = {}): Promise<GitHubApi> {
  const basePath = (seed.basePath ?? '').replace(/\/+$/, '');
  if (basePath && !basePath.startsWith('/'))
    throw new Error(`basePath must start with '/', got '${basePath}'`);
  const serverUrl = (seed.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  const state = new GitHubApiState(seed.login);
  for (const [fullName, repo] of Object.entries(seed.repos ?? { [DEFAULT_REPO]: {} }))
    state.addRepo(fullName, repo);
  const requests: RecordedRequest[] = [];
  let remaining = 5000;
  const resetAt = Math.floor(Date.now() / 1000) + 3600;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        send(res, {
          status: 500,
          body: errorBody(500, `stand-in error: ${String(error)}`),
        });
      } else {
        res.end();
      }
    });
  });

  function send(res: ServerResponse, reply: Reply) {
    // Never 0 by itself: an exhausted limit is what failNext is for.
    remaining = Math.max(1, remaining - 1);
    const headers: Record<string, string> = {
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-used': String(5000 - remaining),
      'x-ratelimit-resource': 'core',
      ...reply.headers,
    };
    if (reply.status === 204 || reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = (req.method ?? 'GET').toUpperCase();
    const host = req.headers.host ?? '127.0.0.1';
    const parsed = new URL(req.url ?? '/', `http://${host}`);
    const path = parsed.pathname;
    const headers = recordedHeaders(req);
    const record: RecordedRequest = {
      method,
      path,
      apiPath: path,
      query: Object.fromEntries(parsed.searchParams),
      headers,
      authorization: req.headers.authorization !== undefined,
      body: undefined,
      status: 0,
      injected: false,
    };
    requests.push(record);
    const reply = (answer: Reply) => {
      record.status = answer.status;
      send(res, answer);
    };

    const raw = await readBody(req);
    if (raw.trim() !== '') {
      try {
        record.body = JSON.parse(raw);
      } catch {
        reply({ status: 400, body: errorBody(400, 'Problems parsing JSON') });
        return;
      }
    }

    if (basePath && path !== basePath && !path.startsWith(`${basePath}/`)) {
      reply({ status: 404, body: notFound().body });
      return;
    }
    const apiPath = path.slice(basePath.length) || '/';
    record.apiPath = apiPath;

    const authorization = req.headers.authorization;
    if (authorization === undefined) {
      reply({ status: 401, body: errorBody(401, 'Requires authentication') });
      return;
    }
    const credentials = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization.trim());
    if (!credentials || (seed.token !== undefined && credentials[1] !== seed.token)) {
      reply({ status: 401, body: errorBody(401, 'Bad credentials') });
      return;
    }

    const fault = state.takeFault(method, apiPath);
    if (fault) {
      record.injected = true;
      reply({ status: fault.status, headers: fault.headers, body: fault.body ?? faultBody(fault) });
      return;
    }

    const context: Context = {
      method,
      apiPath,
      query: parsed.searchParams,
      body: record.body,
      apiBase: `http://${host}${basePath}`,
      selfUrl: `http://${host}${path}`,
    };
    try {
      reply(route(context));
    } catch (error) {
      if (error instanceof HttpError) reply({ status: error.status, body: error.body });
      else throw error;
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // JSON views

  function userJson(user: UserRecord, ctx: Context) {
    return {
      login: user.login,
      id: user.id,
      node_id: `U_${user.id}`,
      type: user.type,
      site_admin: false,
      url: `${ctx.apiBase}/users/${encodeURIComponent(user.login)}`,
      html_url: `${serverUrl}/${encodeURIComponent(user.login)}`,
    };
  }

  function repoJson(repo: RepoRecord, ctx: Context) {
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: repo.fullName,
      owner: userJson(state.user(repo.owner), ctx),
      private: true,
      default_branch: DEFAULT_BRANCH,
      url: `${ctx.apiBase}/repos/${repo.fullName}`,
      html_url: `${serverUrl}/${repo.fullName}`,
    };
  }

  function labelJson(repo: RepoRecord, name: string, ctx: Context) {
    const label = state.ensureLabel(repo, name);
    return {
      id: label.id,
      node_id: `LA_${label.id}`,
      url: `${ctx.apiBase}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      default: false,
      description: label.description,
    };
  }

  function issueHtmlUrl(repo: RepoRecord, issue: IssueRecord) {
    return `${serverUrl}/${repo.fullName}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`;
  }

  function issueJson(repo: RepoRecord, issue: IssueRecord, ctx: Context) {
    const api = `${ctx.apiBase}/repos/${repo.fullName}`;
    const json: Record<string, unknown> = {
      url: `${api}/issues/${issue.number}`,
      repository_url: api,
      labels_url: `${api}/issues/${issue.number}/labels{/name}`,
      comments_url: `${api}/issues/${issue.number}/comments`,
      events_url: `${api}/issues/${issue.number}/events`,
      html_url: issueHtmlUrl(repo, issue),
      id: issue.id,
      node_id: `${issue.pull ? 'PR' : 'I'}_${issue.id}`,
      number: issue.number,
      title: issue.title,
      user: userJson(issue.user, ctx),
      labels: issue.labels.map((name) => labelJson(repo, name, ctx)),
      state: issue.state,
      state_reason: issue.stateReason,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: repo.comments.filter((comment) => comment.issueNumber === issue.number).length,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author_association: 'NONE',
      active_lock_reason: null,
      body: issue.body,
    };
    if (issue.pull) {
      json.draft = issue.pull.draft;
      json.pull_request = {
        url: `${api}/pulls/${issue.number}`,
        html_url: issueHtmlUrl(repo, issue),
        diff_url: `${issueHtmlUrl(repo, issue)}.diff`,
        patch_url: `${issueHtmlUrl(repo, issue)}.patch`,
        merged_at: issue.pull.mergedAt,
      };
    }
    return json;
  }

  function pullJson(repo: RepoRecord, issue: IssueRecord, pull: PullData, ctx: Context, full: boolean) {
    const api = `${ctx.apiBase}/repos/${repo.fullName}`;
    const html = issueHtmlUrl(repo, issue);
    const json: Record<string, unknown> = {
      url: `${api}/pulls/${issue.number}`,
      id: issue.id,
      node_id: `PR_${issue.id}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${issue.number}`,
      commits_url: `${api}/pulls/${issue.number}/commits`,
      comments_url: `${api}/issues/${issue.number}/comments`,
      number: issue.number,
      state: issue.state,
      locked: false,
      title: issue.title,
      user: userJson(issue.user, ctx),
      body: issue.body,
      labels: issue.labels.map((name) => labelJson(repo, name, ctx)),
      milestone: null,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      draft: pull.draft,
      head: {
        label: `${repo.owner}:${pull.headRef}`,
        ref: pull.headRef,
        sha: pull.headSha,
        user: userJson(state.user(repo.owner), ctx),
        repo: repoJson(repo, ctx),
      },
      base: {
        label: `${repo.owner}:${pull.baseRef}`,
        ref: pull.baseRef,
        sha: pull.baseSha,
        user: userJson(state.user(repo.owner), ctx),
        repo: repoJson(repo, ctx),
      },
      author_association: 'NONE',
    };
    if (full) {
      json.merged = pull.mergedAt !== null;
      json.mergeable = pull.mergedAt === null && issue.state === 'open' ? true : null;
      json.merged_by = pull.mergedAt === null ? null : userJson(state.user(repo.owner), ctx);
      json.comments = repo.comments.filter((comment) => comment.issueNumber === issue.number).length;
      json.commits = pull.commits.length + 1;
    }
    return json;
  }

  function commentJson(repo: RepoRecord, comment: CommentRecord, ctx: Context) {
    const api = `${ctx.apiBase}/repos/${repo.fullName}`;
    const issue = repo.issues.find((candidate) => candidate.number === comment.issueNumber);
    const html = issue
      ? issueHtmlUrl(repo, issue)
      : `${serverUrl}/${repo.fullName}/issues/${comment.issueNumber}`;
    return {
      url: `${api}/issues/comments/${comment.id}`,
      html_url: `${html}#issuecomment-${comment.id}`,
      issue_url: `${api}/issues/${comment.issueNumber}`,
      id: comment.id,
      node_id: `IC_${comment.id}`,
      user: userJson(comment.user, ctx),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: 'NONE',
      body: comment.body,
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Routing

  function page<T>(ctx: Context, items: T[], view: (item: T) => unknown): Reply {
    const perPageRaw = Number.parseInt(ctx.query.get('per_page') ?? '', 10);
    const perPage = Number.isNaN(perPageRaw) || perPageRaw < 1 ? 30 : Math.min(perPageRaw, 100);
    const pageRaw = Number.parseInt(ctx.query.get('page') ?? '', 10);
    const current = Number.isNaN(pageRaw) || pageRaw < 1 ? 1 : pageRaw;
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((current - 1) * perPage, current * perPage);
    const link = (n: number, rel: string) => {
      const params = new URLSearchParams(ctx.query);
      params.set('page', String(n));
      return `<${ctx.selfUrl}?${params.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (current > 1) links.push(link(Math.min(current - 1, last), 'prev'));
    if (current < last) links.push(link(current + 1, 'next'), link(last, 'last'));
    if (current > 1) links.push(link(1, 'first'));
    return {
      status: 200,
      body: slice.map(view),
      headers: links.length > 0 ? { link: links.join(', ') } : {},
    };
  }

  function objectBody(ctx: Context): Record<string, unknown> {
    if (ctx.body === undefined) return {};
    if (typeof ctx.body !== 'object' || ctx.body === null || Array.isArray(ctx.body)) {
      throw new HttpError(400, 'Problems parsing JSON');
    }
    return ctx.body as Record<string, unknown>;
  }

  function findIssue(repo: RepoRecord, number: string | undefined) {
    const issue = repo.issues.find((candidate) => String(candidate.number) === number);
    if (!issue) throw notFound();
    return issue;
  }

  function findComment(repo: RepoRecord, id: string | undefined) {
    const comment = repo.comments.find((candidate) => String(candidate.id) === id);
    if (!comment) throw notFound();
    return comment;
  }

  function commentText(body: Record<string, unknown>) {
    const text = body.body;
    if (typeof text !== 'string') throw validationFailed('IssueComment', 'missing_field', 'body');
    if (text.length > MAX_BODY_LENGTH) {
      throw validationFailed(
        'IssueComment',
        'custom',
        'body',
        `body is too long (maximum is ${MAX_BODY_LENGTH} characters)`,
      );
    }
    return text;
  }

  function labelNames(value: unknown): string[] {
    const list = Array.isArray(value) ? value : undefined;
    if (!list) throw validationFailed('Label', 'invalid', 'labels');
    return list.map((entry) => {
      if (typeof entry === 'string' && entry.trim() !== '') return entry;
      if (
        typeof entry === 'object' &&
        entry !== null &&
        typeof (entry as { name?: unknown }).name === 'string'
      ) {
        return (entry as { name: string }).name;
      }
      throw validationFailed('Label', 'invalid', 'labels');
    });
  }

  function route(ctx: Context): Reply {
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(ctx.apiPath);
    if (!match) throw notFound();
    const owner = decodeURIComponent(match[1] ?? '');
    const name = decodeURIComponent(match[2] ?? '');
    const repo = state.findRepo(`${owner}/${name}`);
    if (!repo) throw notFound();
    const rest = match[3] ?? '';
    const m = ctx.method;
    let parts: RegExpExecArray | null;

    if (rest === '' && m === 'GET') return { status: 200, body: repoJson(repo, ctx) };

    if (rest === '/issues') {
      if (m === 'GET') return listIssues(repo, ctx);
      if (m === 'POST') return createIssue(repo, ctx);
    }
    parts = /^\/issues\/comments\/(\d+)$/.exec(rest);
    if (parts) {
      const comment = findComment(repo, parts[1]);
      if (m === 'GET') return { status: 200, body: commentJson(repo, comment, ctx) };
      if (m === 'PATCH') {
        comment.body = commentText(objectBody(ctx));
        comment.updatedAt = now();
        return { status: 200, body: commentJson(repo, comment, ctx) };
      }
      if (m === 'DELETE') {
        repo.comments.splice(repo.comments.indexOf(comment), 1);
        return { status: 204 };
      }
    }
    parts = /^\/issues\/(\d+)$/.exec(rest);
    if (parts) {
      const issue = findIssue(repo, parts[1]);
      if (m === 'GET') return { status: 200, body: issueJson(repo, issue, ctx) };
      if (m === 'PATCH') return updateIssue(repo, issue, ctx);
    }
    parts = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (parts) {
      const issue = findIssue(repo, parts[1]);
      if (m === 'GET') {
        const comments = repo.comments.filter((comment) => comment.issueNumber === issue.number);
        return page(ctx, comments, (comment) => commentJson(repo, comment, ctx));
      }
      if (m === 'POST') {
        const text = commentText(objectBody(ctx));
        const comment = state.addComment(repo.fullName, issue.number, text);
        const json = commentJson(repo, comment, ctx);
        return { status: 201, body: json, headers: { location: json.url } };
      }
    }
    parts = /^\/issues\/(\d+)\/labels$/.exec(rest);
    if (parts) {
      const issue = findIssue(repo, parts[1]);
      if (m === 'POST') {
        const body = ctx.body;
        const names = labelNames(
          Array.isArray(body)
            ? body
            : typeof body === 'object' && body !== null
              ? (body as { labels?: unknown }).labels
              : undefined,
        );
        for (const label of names) state.attachLabel(repo, issue, label);
        issue.updatedAt = now();
      }
      if (m === 'POST' || m === 'GET') {
        return { status: 200, body: issue.labels.map((label) => labelJson(repo, label, ctx)) };
      }
    }
    if (rest === '/labels') {
      if (m === 'GET') return page(ctx, repo.labels, (label) => labelJson(repo, label.name, ctx));
      if (m === 'POST') return createLabel(repo, ctx);
    }
    parts = /^\/labels\/([^/]+)$/.exec(rest);
    if (parts && m === 'GET') {
      const wanted = decodeURIComponent(parts[1] ?? '').toLowerCase();
      const label = repo.labels.find((candidate) => candidate.name.toLowerCase() === wanted);
      if (!label) throw notFound();
      return { status: 200, body: labelJson(repo, label.name, ctx) };
    }
    parts = /^\/commits\/([^/]+)\/pulls$/.exec(rest);
    if (parts && m === 'GET') return commitPulls(repo, decodeURIComponent(parts[1] ?? ''), ctx);
    parts = /^\/pulls\/(\d+)$/.exec(rest);
    if (parts && m === 'GET') {
      const issue = findIssue(repo, parts[1]);
      if (!issue.pull) throw notFound();
      return { status: 200, body: pullJson(repo, issue, issue.pull, ctx, true) };
    }
    throw notFound();
  }

  function commitPulls(repo: RepoRecord, sha: string, ctx: Context): Reply {
    const pulls = repo.issues.filter((issue): issue is IssueRecord & { pull: PullData } => !!issue.pull);
    const contains = (pull: PullData) => pull.headSha === sha || pull.commits.includes(sha);
    const merges = (pull: PullData) => pull.mergedAt !== null && pull.mergeCommitSha === sha;
    const known = pulls.some(({ pull }) => contains(pull) || pull.mergeCommitSha === sha);
    if (!known) throw new HttpError(422, `No commit found for SHA: ${sha}`, COMMIT_PULLS_DOCS);
    const onDefaultBranch = pulls.some(({ pull }) => merges(pull) && pull.baseRef === DEFAULT_BRANCH);
    const listed = pulls.filter(({ pull }) =>
      onDefaultBranch
        ? merges(pull) || (contains(pull) && pull.mergedAt !== null)
        : contains(pull) || pull.mergeCommitSha === sha,
    );
    return page(ctx, listed, (issue) => pullJson(repo, issue, issue.pull, ctx, false));
  }

  function listIssues(repo: RepoRecord, ctx: Context): Reply {
    const wantedState = ctx.query.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(wantedState)) throw validationFailed('Issue', 'invalid', 'state');
    const labels = (ctx.query.get('labels') ?? '')
      .split(',')
      .map((label) => label.trim().toLowerCase())
      .filter((label) => label !== '');
    const sort = ctx.query.get('sort') ?? 'created';
    const direction = ctx.query.get('direction') ?? 'desc';
    const issues = repo.issues
      .filter((issue) => wantedState === 'all' || issue.state === wantedState)
      .filter((issue) => labels.every((label) => issue.labels.some((name) => name.toLowerCase() === label)))
      .sort((a, b) => {
        const byTime =
          sort === 'updated'
            ? a.updatedAt.localeCompare(b.updatedAt)
            : a.createdAt.localeCompare(b.createdAt);
        const order = byTime !== 0 ? byTime : a.number - b.number;
        return direction === 'asc' ? order : -order;
      });
    return page(ctx, issues, (issue) => issueJson(repo, issue, ctx));
  }

  function createIssue(repo: RepoRecord, ctx: Context): Reply {
    const body = objectBody(ctx);
    if (typeof body.title !== 'string' || body.title.trim() === '') {
      throw validationFailed('Issue', 'missing_field', 'title');
    }
    if (body.body !== undefined && body.body !== null && typeof body.body !== 'string') {
      throw validationFailed('Issue', 'invalid', 'body');
    }
    if (typeof body.body === 'string' && body.body.length > MAX_BODY_LENGTH) {
      throw validationFailed(
        'Issue',
        'custom',
        'body',
        `body is too long (maximum is ${MAX_BODY_LENGTH} characters)`,
      );
    }
    const labels = body.labels === undefined ? [] : labelNames(body.labels);
    const issue = state.addIssue(repo.fullName, {
      title: body.title,
      body: typeof body.body === 'string' ? body.body : undefined,
      labels,
    });
    const json = issueJson(repo, issue, ctx);
    return { status: 201, body: json, headers: { location: String(json.url) } };
  }

  function updateIssue(repo: RepoRecord, issue: IssueRecord, ctx: Context): Reply {
    const body = objectBody(ctx);
    if (body.state !== undefined && body.state !== 'open' && body.state !== 'closed') {
      throw validationFailed('Issue', 'invalid', 'state');
    }
    const reasons = ['completed', 'not_planned', 'reopened', 'duplicate'];
    if (
      body.state_reason !== undefined &&
      body.state_reason !== null &&
      !reasons.includes(String(body.state_reason))
    ) {
      throw validationFailed('Issue', 'invalid', 'state_reason');
    }
    if (body.title !== undefined) {
      if (typeof body.title !== 'string' || body.title.trim() === '')
        throw validationFailed('Issue', 'invalid', 'title');
      issue.title = body.title;
    }
    if (body.body !== undefined) {
      if (body.body !== null && typeof body.body !== 'string')
        throw validationFailed('Issue', 'invalid', 'body');
      issue.body = body.body;
    }
    if (body.labels !== undefined) {
      issue.labels = [];
      for (const label of labelNames(body.labels)) state.attachLabel(repo, issue, label);
    }
    const at = now();
    if (body.state === 'closed' && issue.state === 'open') {
      issue.state = 'closed';
      issue.closedAt = at;
      issue.stateReason = typeof body.state_reason === 'string' ? body.state_reason : 'completed';
    } else if (body.state === 'open' && issue.state === 'closed') {
      issue.state = 'open';
      issue.closedAt = null;
      issue.stateReason = 'reopened';
    } else if (typeof body.state_reason === 'string') {
      issue.stateReason = body.state_reason;
    }
    issue.updatedAt = at;
    return { status: 200, body: issueJson(repo, issue, ctx) };
  }

  function createLabel(repo: RepoRecord, ctx: Context): Reply {
    const body = objectBody(ctx);
    if (typeof body.name !== 'string' || body.name.trim() === '') {
      throw validationFailed('Label', 'missing_field', 'name');
    }
    const color = body.color === undefined ? 'ededed' : String(body.color).replace(/^#/, '');
    if (!/^[0-9a-fA-F]{6}$/.test(color)) throw validationFailed('Label', 'invalid', 'color');
    const wanted = body.name.toLowerCase();
    if (repo.labels.some((label) => label.name.toLowerCase() === wanted)) {
      throw validationFailed('Label', 'already_exists', 'name');
    }
    const description = typeof body.description === 'string' ? body.description : null;
    const label = state.ensureLabel(repo, body.name, color, description);
    const json = labelJson(repo, label.name, ctx);
    return { status: 201, body: json, headers: { location: json.url } };
  }

  function faultBody(fault: Fault): Record<string, unknown> {
    const header = (name: string) => fault.headers[name] ?? fault.headers[name.toLowerCase()];
    if ((fault.status === 403 || fault.status === 429) && header('x-ratelimit-remaining') === '0') {
      return errorBody(
        fault.status,
        'API rate limit exceeded for installation ID 1.',
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits',
      );
    }
    if (fault.status === 403 || fault.status === 429) {
      return errorBody(
        fault.status,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
          'If you reach out to GitHub Support for help, please include the request ID.',
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      );
    }
    return errorBody(fault.status, STATUS_CODES[fault.status] ?? 'Error');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    state,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
