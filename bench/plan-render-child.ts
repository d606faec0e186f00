/**
 * One measured pass for bench/plan-render.ts, in a process of its own so that its peak memory is the
 * pass's own: what plan-infra does from reading `terraform show -json` to having both documents, i.e. the
 * part of makePlan after Terraform has run (parse, register the plan's secrets, write the redacted JSON copy,
 * mask the show text, fingerprint and change lines) and the part of runPlanInfra that builds the PR comment
 * and the job summary (protected changes, risk, marker, comment budget, two renderings).
 *
 * argv[2] is a JSON {@link ChildArgs}; the last line on stdout is a JSON {@link ChildResult}.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvironment } from '../actions/lib/environments/index.js';
import { commentBodyBudget, formatMarker } from '../actions/lib/github/index.js';
import { SUMMARY_LIMIT_BYTES } from '../actions/lib/markdown.js';
import { SecretMasker } from '../actions/lib/secrets.js';
import { changeLines, planFingerprint } from '../actions/lib/terraform/fingerprint.js';
import { planCommentKey } from '../actions/lib/terraform/inputs.js';
import { parsePlan } from '../actions/lib/terraform/plan-json.js';
import { PLAN_COMMENT_ACTION, planMarker } from '../actions/lib/terraform/plan-marker.js';
import { redactPlanJson } from '../actions/lib/terraform/redact-plan.js';
import { protectedChanges, riskOf } from '../actions/lib/terraform/risk.js';
import { type PlanView, renderPlan } from '../actions/plan-infra/src/comment.js';

export interface ChildArgs {
  /** `terraform show -json` of the plan. */
  planJson: string;
  /** `terraform show -no-color` of the same plan. */
  showText: string;
  /** Where the redacted JSON copy goes. */
  outDir: string;
  /** The repository root, for environments/<environment>.yaml. */
  root: string;
  environment: string;
  workingDirectory: string;
}

export interface ChildResult {
  ms: number;
  /** process.resourceUsage().maxRSS at the end, in bytes. */
  maxRssBytes: number;
  /** RSS just before the pass, after the modules were loaded. */
  rssBeforeBytes: number;
  /** V8 heap in use at the end, with both documents still referenced. */
  heapUsedBytes: number;
  heapUsedBeforeBytes: number;
  resources: number;
  counts: Record<string, number>;
  secretsFound: number;
  /** Body plus the hidden marker line, as upserted. */
  commentLength: number;
  commentBodyLength: number;
  commentBudget: number;
  commentOmittedLines: number;
  summaryLength: number;
  summaryOmittedLines: number;
  showLines: number;
  leakedSecret: boolean;
}

const args = JSON.parse(process.argv[2] ?? '') as ChildArgs;
const environment = await loadEnvironment(args.environment, { root: args.root });
const protectedHosts = environment.hosts.filter((h) => h.protected).map((h) => h.name);
const headSha = '0123456789abcdef0123456789abcdef01234567';
const runUrl = 'https://github.com/spark/spark-infra/actions/runs/1';
const rssBeforeBytes = process.memoryUsage().rss;
const heapUsedBeforeBytes = process.memoryUsage().heapUsed;

const started = process.hrtime.bigint();
// makePlan, after `terraform show -json`:
const masker = new SecretMasker();
const raw = JSON.parse(readFileSync(args.planJson, 'utf8')) as Record<string, unknown>;
const plan = parsePlan(raw);
for (const secret of plan.secrets) if (secret.length >= 4) masker.add(secret);
writeFileSync(
  join(args.outDir, 'plan.redacted.json'),
  JSON.stringify(redactPlanJson(raw, (text) => masker.mask(text))),
  { mode: 0o600 },
);
const showText = masker.mask(readFileSync(args.showText, 'utf8'));
const fingerprint = planFingerprint(plan);
const lines = changeLines(plan);
// runPlanInfra:
const hits = protectedChanges(plan.changes, protectedHosts);
const risk = riskOf(plan, hits);
const view: PlanView = {
  environment: args.environment,
  workingDirectory: args.workingDirectory,
  plan,
  fingerprint,
  risk,
  protectedChanges: hits,
  approvalLabel: 'destroy-approved',
  showText,
  headSha,
  runUrl,
};
const key = planCommentKey(args.environment, args.workingDirectory);
const data = planMarker(
  {
    fingerprint,
    headSha,
    environment: args.environment,
    workingDirectory: args.workingDirectory,
    counts: plan.counts,
    risk,
  },
  lines,
);
const budget = commentBodyBudget(PLAN_COMMENT_ACTION, key, data);
const comment = renderPlan(view, budget);
const summary = renderPlan(view, Math.floor(SUMMARY_LIMIT_BYTES / 2));
const ms = Number(process.hrtime.bigint() - started) / 1e6;

const memory = process.memoryUsage();
const upserted = `${formatMarker(PLAN_COMMENT_ACTION, key, data)}\n${comment.text}`;
const result: ChildResult = {
  ms,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  rssBeforeBytes,
  heapUsedBytes: memory.heapUsed,
  heapUsedBeforeBytes,
  resources: plan.changes.length,
  counts: { ...plan.counts },
  secretsFound: plan.secrets.size,
  commentLength: upserted.length,
  commentBodyLength: comment.text.length,
  commentBudget: budget,
  commentOmittedLines: comment.omittedLines,
  summaryLength: summary.text.length,
  summaryOmittedLines: summary.omittedLines,
  showLines: showText.replace(/\n+$/, '').split('\n').length,
  leakedSecret: [...plan.secrets].some((s) => comment.text.includes(s) || summary.text.includes(s)),
};
console.log(JSON.stringify(result));
