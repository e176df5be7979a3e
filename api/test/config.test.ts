import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 'a'.repeat(40);

describe('configuration in production', () => {
  it('requires a SECRET_KEY and an SMTP_URL: development stand-ins protect and deliver nothing', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example:587' })).toThrow(
      /SECRET_KEY: is required/,
    );
    const withoutMail = () => loadConfig({ NODE_ENV: 'production', SECRET_KEY: SECRET });
    expect(withoutMail).toThrow(ConfigError);
    expect(withoutMail).toThrow(/SMTP_URL: is required with NODE_ENV=production/);
    const config = loadConfig({ NODE_ENV: 'production', SECRET_KEY: SECRET, SMTP_URL: 'smtp://mail.example:587' });
    expect(config.smtpUrl).toBe('smtp://mail.example:587');
    expect(config.production).toBe(true);
    expect(loadConfig({}).smtpUrl).toBeNull();
    expect(loadConfig({}).production).toBe(false);
  });
});
