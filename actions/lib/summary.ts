/**
 * The job summary: appended to the file the runner names in GITHUB_STEP_SUMMARY, scrubbed of secrets and kept
 * within GitHub's per-step limit. Outside a runner (the local CLI) it is printed instead.
 */
import { appendFileSync } from 'node:fs';
import { fitToBudget, SUMMARY_LIMIT } from './markdown.js';
import type { SecretMasker } from './secrets.js';

export function writeJobSummary(
  markdown: string,
  options: { masker?: SecretMasker; path?: string; print?: (text: string) => void } = {},
): string {
  const masked = options.masker ? options.masker.mask(markdown) : markdown;
  const { text } = fitToBudget({ summary: masked, budget: SUMMARY_LIMIT });
  const path = options.path ?? process.env.GITHUB_STEP_SUMMARY;
  if (path) appendFileSync(path, `${text}\n`);
  else (options.print ?? ((t: string) => process.stdout.write(`${t}\n`)))(text);
  return text;
}
