/**
 * One planning pass, as plan-infra and apply-infra both need it: init with the backend configuration (from a
 * 0600 file that is always removed), `plan -json -out`, then `show -json` read into a {@link Plan}, its
 * sensitive values registered as secrets, a redacted JSON copy written, and the fingerprint computed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunnerDeps } from '../action-deps.js';
import { formatDuration } from '../duration.js';
import { ActionError } from '../errors.js';
import { createSecretFiles, type SecretMasker } from '../secrets.js';
import { backendConfigFile } from './backend-config.js';
import { errorLines, Terraform } from './cli.js';
import { changeLines, planFingerprint } from './fingerprint.js';
import { checkWorkingDirectory, type TerraformInputs } from './inputs.js';
import { type Plan, parsePlan } from './plan-json.js';
import { redactPlanJson } from './redact-plan.js';
import { describeLockHolder, lockDiagnostic } from './state-lock.js';
import type { UiProgress } from './ui-json.js';

export interface PlanningDeps
  extends Pick<RunnerDeps, 'root' | 'masker' | 'secret' | 'log' | 'group' | 'signal'> {
  /** Where the plan files go. */
  outDir: string;
}

export interface PlannedChange {
  plan: Plan;
  fingerprint: string;
  /** `<digest> <actions> <address>` per change, to compare with a reviewed plan. */
  changeLines: string[];
  /** The binary plan (holds sensitive values; never upload it). */
  planPath: string;
  /** `terraform show -json`, with sensitive values redacted. */
  jsonPlanPath: string;
  /** `terraform show` text (Terraform redacts sensitive values in it). */
  showText: string;
  terraform: Terraform;
  backendType: string | undefined;
  /** Removes the saved backend settings from the working directory. Call in `finally`. */
  dispose(): void;
}

export interface PlanningOptions {
  refreshOnly?: boolean;
}

function pgConnection(inputs: TerraformInputs): string | undefined {
  return inputs.backendConfig.conn_str ?? process.env.PG_CONN_STR;
}

/** Turns a failed `terraform plan` or `apply` into the right ActionError. */
export async function terraformFailure(
  what: 'plan' | 'apply',
  progress: UiProgress,
  context: { inputs: TerraformInputs; terraform: Terraform; masker: SecretMasker },
): Promise<ActionError> {
  const { inputs } = context;
  const lock = lockDiagnostic(progress.diagnostics);
  if (lock) {
    const holder = await describeLockHolder({
      backendType: context.terraform.backendType(),
      diagnostic: lock,
      pgConnection: pgConnection(inputs),
      masker: context.masker,
    });
    return new ActionError(
      'state-locked',
      `The Terraform state of ${inputs.environment} (${inputs.workingDirectory}) is locked by another run; ` +
        `terraform ${what} waited ${inputs.lockTimeout} (lock-timeout) and gave up. Nothing was changed.\n` +
        holder.join('\n'),
      { details: holder },
    );
  }
  const lines = errorLines(progress);
  if (what === 'apply' && lines.some((l) => /saved plan is stale/i.test(l))) {
    return new ActionError(
      'plan-changed',
      'The state changed between the plan and the apply (another run applied in between); Terraform refused ' +
        'the stale plan and applied nothing. Run the job again to plan against the new state.',
    );
  }
  return new ActionError(
    `${what}-failed`,
    `terraform ${what} failed for ${inputs.environment} (${inputs.workingDirectory}):\n${lines.join('\n')}`,
    { details: lines },
  );
}

export async function makePlan(
  inputs: TerraformInputs,
  deps: PlanningDeps,
  options: PlanningOptions = {},
): Promise<PlannedChange> {
  const cwd = checkWorkingDirectory(deps.root, inputs.workingDirectory);
  const terraform = new Terraform({
    cwd,
    env: { TF_VAR_environment: inputs.environment },
    masker: deps.masker,
    log: deps.log,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const files = createSecretFiles();
  const dispose = () => terraform.forgetBackendSettings();
  try {
    let backendFile: string | undefined;
    if (Object.keys(inputs.backendConfig).length > 0) {
      const config = backendConfigFile(inputs.backendConfig);
      for (const secret of config.secrets) {
        deps.masker.add(secret);
        deps.secret(secret);
      }
      backendFile = files.write('backend.tfbackend', config.text);
    }
    await deps.group('terraform init', () => terraform.init(backendFile, inputs.lockTimeout));
    const planPath = join(deps.outDir, 'plan.tfplan');
    const started = Date.now();
    const planned = await deps.group(`terraform plan (${inputs.environment})`, () =>
      terraform.plan(planPath, {
        lockTimeout: inputs.lockTimeout,
        refreshOnly: options.refreshOnly === true,
      }),
    );
    if (planned.result.exitCode !== 0) {
      throw await terraformFailure('plan', planned.progress, { inputs, terraform, masker: deps.masker });
    }
    deps.log(`Planned in ${formatDuration(Date.now() - started)}.`);

    const rawJsonPath = await terraform.show(planPath, true);
    const raw = JSON.parse(readFileSync(rawJsonPath, 'utf8')) as Record<string, unknown>;
    // The raw JSON holds sensitive values in clear: read it once, then remove it.
    rmSync(rawJsonPath, { force: true });
    const plan = parsePlan(raw);
    for (const secret of plan.secrets) {
      if (secret.length < 4) continue;
      deps.masker.add(secret);
      deps.secret(secret);
    }
    const jsonPlanPath = join(deps.outDir, 'plan.json');
    writeFileSync(jsonPlanPath, JSON.stringify(redactPlanJson(raw, (text) => deps.masker.mask(text))), {
      mode: 0o600,
    });
    const showText = deps.masker.mask(readFileSync(await terraform.show(planPath, false), 'utf8'));
    return {
      plan,
      fingerprint: planFingerprint(plan),
      changeLines: changeLines(plan),
      planPath,
      jsonPlanPath,
      showText,
      terraform,
      backendType: terraform.backendType(),
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  } finally {
    files.dispose();
  }
}
