/**
 * Typed, validated reading of action inputs. Every reader names the input and what is allowed when the value
 * is wrong, and throws `ActionError('bad-input')`, so nothing runs on bad input.
 *
 * Values come from an `InputSource`; by default the runner's `INPUT_<NAME>` variables, read the same way as
 * `@actions/core` (spaces become `_`, upper case, trimmed). Secret inputs are registered with the masker
 * before anything else can print them.
 */
import * as core from '@actions/core';
import { parse as parseYaml } from 'yaml';
import { DURATION_FORMAT, formatDuration, parseDurationMs } from './duration.js';
import { ActionError, badInput } from './errors.js';
import { secretParts } from './secrets.js';

export type InputSource = (name: string) => string;

export const environmentInputs: InputSource = (name) =>
  (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();

/** An input source over a plain object, for tests and for the CLI that reuses the actions. */
export function objectInputs(values: Record<string, string | number | boolean | undefined>): InputSource {
  return (name) => {
    const value = values[name];
    return value === undefined ? '' : String(value).trim();
  };
}

interface Common {
  required?: boolean;
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

export class Inputs {
  constructor(
    private readonly source: InputSource = environmentInputs,
    private readonly maskSecret: (value: string) => void = core.setSecret,
  ) {}

  private raw(name: string, required = false): string {
    const value = this.source(name);
    if (required && value === '') throw badInput(name, 'is required but was not given');
    return value;
  }

  /** A string; `default` when empty. */
  string(
    name: string,
    options: Common & { default?: string; pattern?: RegExp; describe?: string } = {},
  ): string {
    const value = this.raw(name, options.required) || options.default || '';
    if (value !== '' && options.pattern && !options.pattern.test(value)) {
      throw badInput(
        name,
        `has the value '${value}', which is not allowed`,
        options.describe ?? String(options.pattern),
      );
    }
    return value;
  }

  /** A string, or undefined when not given. */
  optional(name: string): string | undefined {
    return this.raw(name) || undefined;
  }

  /** A secret: masked in every log line from now on. Never echoed in errors. */
  secret(name: string, options: Common = {}): string | undefined {
    const value = this.raw(name, options.required);
    if (value === '') return undefined;
    // Multi-line secrets (keys) are masked line by line too, as the runner masks per line.
    for (const part of secretParts(value)) this.maskSecret(part);
    return value;
  }

  /** YAML 1.2 core booleans, as the runner documents: true | True | TRUE | false | False | FALSE. */
  boolean(name: string, options: Common & { default?: boolean } = {}): boolean {
    const value = this.raw(name, options.required);
    if (value === '') {
      if (options.default === undefined)
        throw badInput(name, 'is required but was not given', 'true or false');
      return options.default;
    }
    if (TRUE.includes(value)) return true;
    if (FALSE.includes(value)) return false;
    throw badInput(name, `has the value '${value}', which is not a boolean`, 'true or false');
  }

  /** A duration in milliseconds: `90s`, `15m`, `4h`, `1h30m`. */
  durationMs(
    name: string,
    options: Common & { default?: string; minMs?: number; maxMs?: number } = {},
  ): number {
    const text = this.raw(name, options.required) || options.default || '';
    if (text === '') throw badInput(name, 'is required but was not given', DURATION_FORMAT);
    const ms = parseDurationMs(text);
    if (ms === undefined)
      throw badInput(name, `has the value '${text}', which is not a duration`, DURATION_FORMAT);
    if (options.minMs !== undefined && ms < options.minMs)
      throw badInput(name, `is ${text}, below the minimum of ${formatDuration(options.minMs)}`);
    if (options.maxMs !== undefined && ms > options.maxMs)
      throw badInput(name, `is ${text}, above the maximum of ${formatDuration(options.maxMs)}`);
    return ms;
  }

  /** A duration in milliseconds, or undefined when not given. */
  optionalDurationMs(name: string): number | undefined {
    return this.raw(name) === '' ? undefined : this.durationMs(name);
  }

  /** A whole number within bounds. */
  integer(name: string, options: Common & { default?: number; min?: number; max?: number } = {}): number {
    const text = this.raw(name, options.required);
    const range = `a whole number${options.min === undefined ? '' : ` from ${options.min}`}${
      options.max === undefined ? '' : ` up to ${options.max}`
    }`;
    if (text === '') {
      if (options.default === undefined) throw badInput(name, 'is required but was not given', range);
      return options.default;
    }
    const n = Number(text);
    const outside =
      (options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || outside) {
      throw badInput(name, `has the value '${text}'`, range);
    }
    return n;
  }

  /** One of a fixed set of words. */
  enum<T extends string>(name: string, allowed: readonly T[], options: Common & { default?: T } = {}): T {
    const value = this.raw(name, options.required) || options.default || '';
    if ((allowed as readonly string[]).includes(value)) return value as T;
    if (value === '') throw badInput(name, 'is required but was not given', allowed.join(', '));
    throw badInput(name, `has the value '${value}'`, allowed.join(', '));
  }

  /** A GitHub label name: 1 to 50 characters without a comma (a comma would split it in API filters). */
  label(name: string, options: Common & { default?: string } = {}): string {
    return this.string(name, {
      ...options,
      pattern: /^[^,]{1,50}$/,
      describe: 'a GitHub label name of at most 50 characters, without commas',
    });
  }

  /** A list: one item per line or separated by commas. Blank lines and `# comments` are ignored. */
  list(name: string, options: Common = {}): string[] {
    const value = this.raw(name, options.required);
    const items = value
      .split(/\r?\n/)
      .map((line) => line.replace(/(^|\s)#.*$/, ''))
      .flatMap((line) => line.split(','))
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (options.required && items.length === 0) throw badInput(name, 'is required but lists nothing');
    return items;
  }

  /** `key=value` lines (for example backend-config). Values keep any further `=`. */
  keyValues(name: string, options: Common & { secret?: boolean } = {}): Record<string, string> {
    const result: Record<string, string> = {};
    const lines = this.raw(name, options.required).split(/\r?\n/);
    lines.forEach((line, index) => {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) return;
      const eq = text.indexOf('=');
      if (eq <= 0) {
        throw badInput(name, `line ${index + 1} is not of the form key=value`, 'one key=value per line');
      }
      const key = text.slice(0, eq).trim();
      const value = text.slice(eq + 1).trim();
      if (options.secret && value.length >= 4) this.maskSecret(value);
      result[key] = value;
    });
    return result;
  }

  /** A YAML (or JSON) mapping, for inputs such as extra-vars. */
  yamlMap(name: string, options: Common = {}): Record<string, unknown> {
    const text = this.raw(name, options.required);
    if (text === '') return {};
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ActionError(
        'bad-input',
        `Input '${name}' is not valid YAML: ${reason}. Allowed: a YAML mapping such as \`key: value\`, one per line.`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw badInput(name, 'is not a mapping', 'a YAML mapping such as `key: value`, one per line');
    }
    return parsed as Record<string, unknown>;
  }
}
