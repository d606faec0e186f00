/**
 * What the GitHub runner does around a JavaScript action, shared by the tests' runner and `npm run rehearse`:
 * input defaults from action.yml, the INPUT_* variable names, the GITHUB_OUTPUT file format, and the log's
 * workflow commands (add-mask, annotations) with masks applied as the runner shows the log.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

interface ActionYml {
  inputs?: Record<string, { default?: unknown; required?: boolean }>;
}

export function inputDefaults(path: string): Record<string, string> {
  const spec = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as ActionYml;
  const defaults: Record<string, string> = {};
  for (const [name, input] of Object.entries(spec.inputs ?? {})) {
    if (input?.default !== undefined) defaults[name] = String(input.default);
  }
  return defaults;
}

/** The runner's own variable name for an input (spaces to _, upper case; hyphens stay). */
export const inputVariable = (name: string) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

export function unescapeData(value: string) {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}
export function unescapeProperty(value: string) {
  return unescapeData(value).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** Parses the GITHUB_OUTPUT file format: `name=value` lines and `name<<DELIM` heredocs. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  properties: Record<string, string>;
}

/** Reads a log line by line as the runner does: add-mask lines are consumed, annotations collected, masks applied. */
export class RunnerLog {
  readonly masks: string[] = [];
  readonly annotations: Annotation[] = [];

  /** The line as the runner would show it, or undefined for an add-mask command. */
  line(line: string): { shown: string; raw: string } | undefined {
    const command = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line);
    if (command?.[1] === 'add-mask') {
      this.masks.push(unescapeData(command[3] ?? ''));
      return undefined;
    }
    if (command && ['error', 'warning', 'notice'].includes(command[1] ?? '')) {
      const properties: Record<string, string> = {};
      for (const pair of (command[2] ?? '').trim().split(',').filter(Boolean)) {
        const eq = pair.indexOf('=');
        properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
      }
      this.annotations.push({
        level: command[1] as Annotation['level'],
        message: unescapeData(command[3] ?? ''),
        properties,
      });
    }
    return { shown: this.mask(line), raw: line };
  }

  mask(text: string): string {
    let masked = text;
    for (const mask of [...this.masks].sort((a, b) => b.length - a.length))
      if (mask !== '') masked = masked.split(mask).join('***');
    return masked;
  }
}

export interface RunnerFiles {
  runnerTemp: string;
  outputFile: string;
  summaryFile: string;
  eventFile: string;
  /** The variables that point the step at them (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, ...). */
  env: Record<string, string>;
}

/** The files a runner gives a step, in `home`: RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the event. */
export function prepareRunnerFiles(home: string, event: unknown = {}): RunnerFiles {
  const runnerTemp = join(home, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  // As on a runner, other users (the postgres OS user a drill runs its scratch servers as) can traverse it.
  chmodSync(home, 0o711);
  chmodSync(runnerTemp, 0o711);
  const files = {
    runnerTemp,
    outputFile: join(home, 'github-output'),
    summaryFile: join(home, 'summary.md'),
    eventFile: join(home, 'event.json'),
  };
  const env = {
    GITHUB_EVENT_PATH: files.eventFile,
    GITHUB_OUTPUT: files.outputFile,
    GITHUB_STEP_SUMMARY: files.summaryFile,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
  };
  writeFileSync(files.outputFile, '');
  writeFileSync(files.summaryFile, '');
  writeFileSync(files.eventFile, `${JSON.stringify(event)}\n`);
  return { ...files, env };
}
