import { describe, expect, it } from 'vitest';
import { backendConfigFile, hclString, invalidBackendKeys } from './backend-config.js';

describe('hclString', () => {
  it('escapes quotes, backslashes, line breaks and template sequences', () => {
    expect(hclString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL's template syntax is what is under test
    expect(hclString('${var.x} %{if}')).toBe('"$${var.x} %%{if}"');
  });
});

describe('backendConfigFile', () => {
  it('writes one line per key and reports credentials', () => {
    const config = backendConfigFile({
      conn_str: 'postgres://tf:s3cr3t-pw@db:5432/state?sslmode=disable',
      schema_name: 'terraform',
    });
    expect(config.text).toBe(
      'conn_str = "postgres://tf:s3cr3t-pw@db:5432/state?sslmode=disable"\nschema_name = "terraform"\n',
    );
    expect(config.secrets).toContain('s3cr3t-pw');
    expect(config.secrets).toContain('postgres://tf:s3cr3t-pw@db:5432/state?sslmode=disable');
    expect(config.secrets).not.toContain('terraform');
  });

  it('finds the password in a key=value connection string under any key', () => {
    expect(backendConfigFile({ dsn: "host=db password='p w'" }).secrets).toEqual(['p w']);
  });

  it('names keys that are not identifiers', () => {
    expect(invalidBackendKeys({ ok_key: '1', 'bad key': '2', '1x': '3' })).toEqual(['bad key', '1x']);
  });
});
