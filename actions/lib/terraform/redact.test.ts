import { describe, expect, it } from 'vitest';
import { maskStrings, redactValue, SENSITIVE, sensitiveValues, UNKNOWN } from './redact.js';

describe('redactValue', () => {
  it('replaces sensitive parts and keeps the rest', () => {
    const value = { name: 'x', pw: 'hunter2', nested: [{ token: 't0ken', keep: 1 }] };
    const marks = { pw: true, nested: [{ token: true }] };
    expect(redactValue(value, marks)).toEqual({
      name: 'x',
      pw: SENSITIVE,
      nested: [{ token: SENSITIVE, keep: 1 }],
    });
  });

  it('redacts a wholly sensitive value', () => {
    expect(redactValue({ a: 1 }, true)).toBe(SENSITIVE);
    expect(redactValue('secret', true)).toBe(SENSITIVE);
  });

  it('marks unknown parts, also those the value does not have yet', () => {
    expect(redactValue({ input: 'b' }, {}, { id: true, output: true })).toEqual({
      input: 'b',
      id: UNKNOWN,
      output: UNKNOWN,
    });
    expect(redactValue(undefined, false, true)).toBe(UNKNOWN);
  });

  it('lets sensitivity win over unknown', () => {
    expect(redactValue({}, { pw: true }, { pw: true })).toEqual({ pw: SENSITIVE });
  });
});

describe('sensitiveValues', () => {
  it('collects every string under a sensitive mark', () => {
    const value = { pw: 'hunter2', list: ['a', { k: 'deep', n: 5 }], plain: 'visible' };
    expect([...sensitiveValues(value, { pw: true, list: true })].sort()).toEqual(['a', 'deep', 'hunter2']);
  });

  it('collects nothing without marks', () => {
    expect(sensitiveValues({ a: 'b' }, false).size).toBe(0);
    expect(sensitiveValues({ a: 'b' }, {}).size).toBe(0);
  });
});

describe('maskStrings', () => {
  it('masks every string, keys and other values untouched', () => {
    const mask = (text: string) => text.replaceAll('hunter2', '***');
    expect(maskStrings({ hunter2: ['x hunter2 y', 5, null, { k: 'hunter2' }] }, mask)).toEqual({
      hunter2: ['x *** y', 5, null, { k: '***' }],
    });
  });
});
