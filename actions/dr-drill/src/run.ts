/**
 * The drill: resolve the targets, restore and verify each in its own scratch place under one overall timeout,
 * always clean up, judge RTO and RPO, write the report, and keep the failure issue in step.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDurationMs } from '../../lib/duration.js';
import { checkDrSchema, type DrFile, loadEnvironment } from '../../lib/environments/index.js';
import { ActionError } from '../../lib/errors.js';
import type { GitHubClient, RepoRef } from '../../lib/github/client.js';
import { reportFailureIssue, resolveFailureIssue } from '../../lib/github/issues.js';
import { COMMENT_LIMIT, fitToBudget } from '../../lib/markdown.js';
import { splitConnectionPassword } from '../../lib/postgres-server.js';
import type { SecretMasker } from '../../lib/secrets.js';
import { type DrillPlan, resolvePlan } from './config.js';
import type { DrillInputs } from './inputs.js';
import { buildReport, type DrillReport, writeReport } from './report.js';
import { Scratch } from './scratch.js';
import { renderSummary } from './summary.js';
import type { DrillContext, DrillTarget, TargetResult } from './types.js';
import { judgeDrill } from './verdict.js';

export interface DrillDeps {
  /** The checkout: environments/ and relative config paths are found here. */
  root: string;
  now: () => number;
  log: (line: string) => void;
  /** Runs one log group per target. */
  group: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  /** Restores and verifies one target. */
  drillTarget: (target: DrillTarget, context: DrillContext) => Promise<TargetResult>;
  masker: SecretMasker;
  /** Registers a secret found in the configuration (a source's password) with the runner's log masking too. */
  secret?: (value: string) => void;
  github?: { client: GitHubClient; repo: RepoRef };
  runUrl?: string;
  /** Where scratch places go. Default RUNNER_TEMP or the system temp dir. */
  scratchParent?: string;
  /** How long a target may take to stop after the timeout before it is abandoned. Default 30 s. */
  abortGraceMs?: number;
}

export interface DrillOutcome {
  report: DrillReport;
  reportPath: string;
  summary: string;
  issueUrl?: string;
}

function readConfig(path: string): { path: string; dr: DrFile; rtoMs: number; rpoMs: number } {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ActionError('bad-input', `Input 'config' names ${path}, which cannot be read as YAML: ${why}`);
  }
  const problems = checkDrSchema(data);
  if (problems.length > 0) {
    throw new ActionError(
      'bad-input',
      `Input 'config' names ${path}, which is not a valid dr: section:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`,
    );
  }
  const dr = (data as { dr: DrFile }).dr;
  const rtoMs = parseDurationMs(dr.rto);
  const rpoMs = parseDurationMs(dr.rpo);
  if (rtoMs === undefined || rpoMs === undefined) {
    throw new ActionError(
      'bad-input',
      `Input 'config' names ${path}, whose dr.rto or dr.rpo is not a duration.`,
    );
  }
  return { path, dr, rtoMs, rpoMs };
}

export async function planDrill(inputs: DrillInputs, root: string): Promise<DrillPlan> {
  const environment = await loadEnvironment(inputs.environment, { root });
  const config = inputs.config
    ? readConfig(isAbsolute(inputs.config) ? inputs.config : join(root, inputs.config))
    : undefined;
  return resolvePlan({
    environment: {
      name: environment.name,
      dr: environment.dr,
      rtoMs: environment.dr.rto_seconds * 1000,
      rpoMs: environment.dr.rpo_seconds * 1000,
    },
    ...(config ? { config } : {}),
    select: inputs.targets,
    ...(inputs.rtoTargetMs === undefined ? {} : { rtoOverrideMs: inputs.rtoTargetMs }),
    ...(inputs.rpoTargetMs === undefined ? {} : { rpoOverrideMs: inputs.rpoTargetMs }),
  });
}

function notRun(target: DrillTarget, now: number, message: string): TargetResult {
  return {
    name: target.name,
    kind: target.kind,
    ok: false,
    failure: 'timeout',
    message,
    phases: [],
    checks: [],
    restoreStartedAt: now,
  };
}

async function drillOne(
  target: DrillTarget,
  signal: AbortSignal,
  drillStart: number,
  deps: DrillDeps,
): Promise<TargetResult> {
  const scratch = new Scratch(deps.scratchParent);
  const context: DrillContext = {
    drillStart,
    now: deps.now,
    scratch,
    signal,
    log: deps.log,
    masker: deps.masker,
  };
  const grace = deps.abortGraceMs ?? 30_000;
  let result: TargetResult;
  let fatal: ActionError | undefined;
  try {
    // A target that ignores the abort is abandoned after the grace period; its processes are still stopped below.
    const abandoned = new Promise<TargetResult>((resolve) => {
      const onAbort = () =>
        setTimeout(
          () =>
            resolve(
              notRun(target, deps.now(), `did not stop within ${grace / 1000}s of the drill's timeout`),
            ),
          grace,
        ).unref();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    result = await Promise.race([deps.drillTarget(target, context), abandoned]);
  } catch (error) {
    // A configuration the drill cannot run with (no kubeconfig, a missing tool) is the caller's to fix.
    if (error instanceof ActionError && (error.reason === 'bad-input' || error.reason === 'missing-tool')) {
      fatal = error;
    }
    const message = deps.masker.mask(error instanceof Error ? error.message : String(error));
    result = {
      name: target.name,
      kind: target.kind,
      ok: false,
      failure: 'restore-failed',
      message,
      phases: [],
      checks: [],
    };
  }
  const cleanupStart = deps.now();
  const leftovers = await scratch.cleanup();
  result.phases.push({
    name: 'cleanup',
    startedAt: cleanupStart,
    endedAt: deps.now(),
    ok: leftovers.length === 0,
    ...(leftovers.length ? { detail: leftovers.join('; ') } : {}),
  });
  for (const leftover of leftovers)
    deps.log(deps.masker.mask(`cleanup of ${target.name} failed: ${leftover}`));
  if (fatal) throw fatal;
  return result;
}

/** The passwords of postgres sources, so no log line, report or issue can carry them. */
function registerSecrets(plan: DrillPlan, deps: DrillDeps) {
  for (const target of plan.targets) {
    if (target.kind !== 'postgres' || !target.source) continue;
    const { password } = splitConnectionPassword(target.source);
    for (const value of [target.source, password]) {
      if (!value) continue;
      deps.masker.add(value);
      deps.secret?.(value);
    }
  }
}

/** Keeps the failure issue in step; a problem with GitHub is a warning, never the drill's result. */
async function syncIssue(inputs: DrillInputs, deps: DrillDeps, report: DrillReport, summary: string) {
  if (!inputs.issueOnFailure || !deps.github) return undefined;
  const { client, repo } = deps.github;
  const body = fitToBudget({ summary, budget: COMMENT_LIMIT - 1_000 }).text;
  try {
    if (report.status === 'fail') {
      const issue = await reportFailureIssue(client, repo, {
        label: inputs.issueLabel,
        title: `DR drill failing: ${inputs.environment}`,
        body,
      });
      return issue.url;
    }
    // Only a drill of every target proves the failure gone.
    if (inputs.targets.length > 0) return undefined;
    const closed = await resolveFailureIssue(client, repo, {
      label: inputs.issueLabel,
      body: fitToBudget({
        summary: `The DR drill passed again.\n\n${summary}`,
        budget: COMMENT_LIMIT - 1_000,
      }).text,
    });
    return closed[0]?.url;
  } catch (error) {
    deps.log(
      `Could not update the drill's issue: ${deps.masker.mask(error instanceof Error ? error.message : String(error))}`,
    );
    return undefined;
  }
}

export async function runDrill(inputs: DrillInputs, deps: DrillDeps): Promise<DrillOutcome> {
  const plan = await planDrill(inputs, deps.root);
  registerSecrets(plan, deps);
  const drillStart = deps.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), inputs.timeoutMs);
  timer.unref();
  const results: TargetResult[] = [];
  try {
    for (const target of plan.targets) {
      if (controller.signal.aborted) {
        results.push(notRun(target, deps.now(), "not started: the drill's timeout was reached"));
        continue;
      }
      results.push(
        await deps.group(`${target.kind} ${target.name}`, () =>
          drillOne(target, controller.signal, drillStart, deps),
        ),
      );
    }
  } finally {
    clearTimeout(timer);
  }

  const verdict = judgeDrill(results, drillStart, plan.rtoMs, plan.rpoMs);
  const report = buildReport({
    environment: inputs.environment,
    verdict,
    startedAt: drillStart,
    finishedAt: deps.now(),
    rtoMs: plan.rtoMs,
    rpoMs: plan.rpoMs,
    ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
  });
  const reportPath = writeReport(inputs.reportDir, report);
  const summary = deps.masker.mask(renderSummary(report));

  const issueUrl = await syncIssue(inputs, deps, report, summary);
  return { report, reportPath, summary, ...(issueUrl ? { issueUrl } : {}) };
}
