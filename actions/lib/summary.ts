/**
 * The job summary: appended to the file the runner names in GITHUB_STEP_SUMMARY, scrubbed of secrets and kept
 * within GitHub's per-step limit. Outside a runner (the local CLI) it is printed instead.
 */
import { appendFileSync, existsSync, statSync } from 'node:fs';
import { fitToBudget, SUMMARY_LIMIT_BYTES } from './markdown.js';
import { processMasker, type SecretMasker } from './secrets.js';

/** Fits text into a budget of UTF-8 bytes (the unit of GitHub's summary limit), cutting on line boundaries. */
export function fitToBytes(text: string, bytes: number): string {
  let budget = Math.min(text.length, bytes);
  let fitted = fitToBudget({ summary: text, budget }).text;
  while (Buffer.byteLength(fitted) > bytes && budget > 0) {
    budget = Math.floor((budget * bytes) / Buffer.byteLength(fitted)) - 1;
    fitted = fitToBudget({ summary: text, budget: Math.max(0, budget) }).text;
  }
  return fitted;
}

export function writeJobSummary(
  markdown: string,
  options: { masker?: SecretMasker; path?: string; print?: (text: string) => void } = {},
): string {
  const masked = (options.masker ?? processMasker).mask(markdown);
  const path = options.path ?? process.env.GITHUB_STEP_SUMMARY;
  // The limit is per step, so what this step already wrote counts.
  const used = path && existsSync(path) ? statSync(path).size : 0;
  const text = fitToBytes(masked, Math.max(0, SUMMARY_LIMIT_BYTES - used - 1));
  if (path) appendFileSync(path, `${text}\n`);
  else (options.print ?? ((t: string) => process.stdout.write(`${t}\n`)))(text);
  return text;
}
