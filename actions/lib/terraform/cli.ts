/**
 * Runs the terraform binary directly (no wrapper script): init, plan, show, apply and output, each with an
 * argv array, `-input=false`, and Terraform's machine-readable UI where it has one. Output streams to files
 * under the log folder; the log shows one human line per UI message, masked.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ActionError } from '../errors.js';
import { type ExecResult, execCommand, lastLines, requireExecutable } from '../exec.js';
import { withHeartbeat } from '../progress.js';
import type { SecretMasker } from '../secrets.js';
import { errors, newProgress, readUiLine, type UiProgress } from './ui-json.js';

export const TERRAFORM_HINT =
  'Install Terraform 1.x on the runner (for example with hashicorp/setup-terraform) or run scripts/setup-system.sh.';

export interface TerraformOptions {
  /** The root module's directory (absolute). */
  cwd: string;
  /** TF_VAR_* and other variables for every command. */
  env: Record<string, string>;
  masker: SecretMasker;
  log: (line: string) => void;
  logDir?: string;
  signal?: AbortSignal;
}

export interface UiRun {
  result: ExecResult;
  progress: UiProgress;
}

export class Terraform {
  readonly program: string;

  constructor(private readonly options: TerraformOptions) {
    this.program = requireExecutable('terraform', TERRAFORM_HINT);
  }

  private exec(args: string[], extra: { json?: boolean; label: string; echo?: boolean }): Promise<UiRun> {
    const progress = newProgress();
    const run = execCommand([this.program, ...args], {
      cwd: this.options.cwd,
      env: {
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
        ...this.options.env,
      },
      masker: this.options.masker,
      label: extra.label,
      echo: extra.json ? false : (extra.echo ?? true),
      log: this.options.log,
      ...(this.options.logDir ? { logDir: this.options.logDir } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      ...(extra.json
        ? {
            onLine: (line: string, stream: 'stdout' | 'stderr') => {
              const text = stream === 'stdout' ? readUiLine(line, progress) : line;
              if (text !== undefined) for (const l of text.split('\n')) this.options.log(l);
            },
          }
        : {}),
    });
    return withHeartbeat(`running terraform ${args[0]}`, async () => ({ result: await run, progress }), {
      log: this.options.log,
      status: () => progress.last,
    });
  }

  /** `terraform version -json`'s version, for the report. */
  async version(): Promise<string> {
    const { result } = await this.exec(['version', '-json'], { label: 'terraform-version', echo: false });
    try {
      return String((JSON.parse(result.stdout()) as { terraform_version?: string }).terraform_version);
    } catch {
      return 'unknown';
    }
  }

  async init(backendConfigFile: string | undefined, lockTimeout: string): Promise<void> {
    const args = ['init', '-input=false', '-no-color', `-lock-timeout=${lockTimeout}`];
    if (backendConfigFile) args.push(`-backend-config=${backendConfigFile}`);
    const { result } = await this.exec(args, { label: 'terraform-init' });
    if (result.exitCode !== 0) {
      throw new ActionError(
        'init-failed',
        `terraform init failed in ${this.options.cwd} (exit ${result.exitCode}):\n${lastLines(result.stderr(), 15).join('\n')}`,
        { details: [`Full output: ${result.stdoutPath}, ${result.stderrPath}`] },
      );
    }
  }

  /** `terraform plan -json -out`; the caller reads the diagnostics. */
  plan(out: string, options: { lockTimeout: string; refreshOnly?: boolean }): Promise<UiRun> {
    const args = ['plan', '-json', '-input=false', `-lock-timeout=${options.lockTimeout}`, `-out=${out}`];
    if (options.refreshOnly) args.push('-refresh-only');
    return this.exec(args, { json: true, label: 'terraform-plan' });
  }

  /** `terraform apply -json <planfile>`: applies exactly the saved plan. */
  apply(planFile: string, options: { lockTimeout: string }): Promise<UiRun> {
    const args = ['apply', '-json', '-input=false', `-lock-timeout=${options.lockTimeout}`, planFile];
    return this.exec(args, { json: true, label: 'terraform-apply' });
  }

  /** `terraform show [-json] <planfile>`: returns the path of the file holding stdout. */
  async show(planFile: string, json: boolean): Promise<string> {
    const args = json ? ['show', '-json', planFile] : ['show', '-no-color', planFile];
    const { result } = await this.exec(args, {
      label: json ? 'terraform-show-json' : 'terraform-show',
      echo: false,
    });
    if (result.exitCode !== 0) {
      throw new ActionError(
        'command-failed',
        `terraform show failed:\n${lastLines(result.stderr(), 15).join('\n')}`,
      );
    }
    return result.stdoutPath;
  }

  /** `terraform output -json`: returns the path of the file holding it. */
  async outputJson(): Promise<string> {
    const { result } = await this.exec(['output', '-json'], { label: 'terraform-output', echo: false });
    if (result.exitCode !== 0) {
      throw new ActionError(
        'command-failed',
        `terraform output failed:\n${lastLines(result.stderr(), 15).join('\n')}`,
      );
    }
    return result.stdoutPath;
  }

  /** The backend type `terraform init` configured (from .terraform/terraform.tfstate), if any. */
  backendType(): string | undefined {
    try {
      const state = JSON.parse(readFileSync(this.backendStatePath(), 'utf8')) as {
        backend?: { type?: string };
      };
      return state.backend?.type;
    } catch {
      return undefined;
    }
  }

  private backendStatePath(): string {
    return join(this.options.cwd, process.env.TF_DATA_DIR || '.terraform', 'terraform.tfstate');
  }

  /**
   * Removes the backend settings `terraform init` saved in the working directory: they include the
   * backend-config values (connection strings, passwords), and a self-hosted runner keeps its workspace.
   */
  forgetBackendSettings(): void {
    const path = this.backendStatePath();
    if (existsSync(path)) rmSync(path, { force: true });
  }
}

/** The error diagnostics as lines: `summary: detail (address)`. */
export function errorLines(progress: UiProgress): string[] {
  const found = errors(progress).map(
    (d) =>
      `${d.summary}${d.address ? ` (${d.address})` : ''}${d.detail ? `: ${d.detail.split('\n')[0]}` : ''}`,
  );
  return found.length > 0 ? found : progress.other.slice(-10);
}
