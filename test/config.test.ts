import { ConfigError, loadConfig } from '../src/config';

const base = { DATA_DIR: '/tmp/kk-config-test', TOKEN_KEYS: 'k1:0123456789abcdef0123456789abcdef' };

describe('config', () => {
  it('works with nothing set, with the documented defaults', () => {
    const c = loadConfig({ DATA_DIR: base.DATA_DIR });
    expect(c).toMatchObject({
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: 'sqlite:./data/kundeklubb.sqlite',
      smtpUrl: 'file:./data/outbox',
      mailFrom: 'Sothys Kundeklubb <nyhetsbrev@cosmenor.no>',
      privacyContact: 'post@cosmenor.no',
      doubleOptIn: true,
      sendRate: 50,
      role: 'all',
    });
    expect(c.tokenKeys).toHaveLength(1);
    // Generated once and kept: the same keys next time.
    expect(loadConfig({ DATA_DIR: base.DATA_DIR }).tokenKeys).toEqual(c.tokenKeys);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: /],
    [{ SEND_RATE: '0' }, /^SEND_RATE: must be positive/],
    [{ ROLE: 'boss' }, /^ROLE: must be api, worker or all/],
    [{ DATABASE_URL: 'postgres://x' }, /^DATABASE_URL: /],
    [{ SMTP_URL: 'http://relay' }, /^SMTP_URL: /],
    [{ DOUBLE_OPT_IN: 'maybe' }, /^DOUBLE_OPT_IN: must be true or false/],
    [{ PRIVACY_CONTACT: 'nobody' }, /^PRIVACY_CONTACT: /],
    [{ PUBLIC_URL: 'not a url' }, /^PUBLIC_URL: /],
    [{ TOKEN_KEYS: 'short:abc' }, /^TOKEN_KEYS: secret of kid "short" must be at least 32 characters/],
    [{ TOKEN_KEYS: 'nokid' }, /^TOKEN_KEYS: each entry must be kid:secret/],
    [{ DKIM_DOMAIN: 'cosmenor.no' }, /^DKIM_SELECTOR: required when any DKIM_\* variable is set/],
    [{ BOUNCE_DOMAIN: 'not a domain' }, /^BOUNCE_DOMAIN: must be a domain name/],
    [{ BOUNCE_PAUSE_RATE: '5' }, /^BOUNCE_PAUSE_RATE: must be a share between 0 and 1/],
    [{ COMPLAINT_PAUSE_RATE: '0' }, /^COMPLAINT_PAUSE_RATE: must be a share between 0 and 1/],
    [{ SES_TOPIC_ARNS: 'my-topic' }, /^SES_TOPIC_ARNS: must be a comma list of SNS topic ARNs/],
    [{ POSTMARK_WEBHOOK_SECRET: 'short' }, /^POSTMARK_WEBHOOK_SECRET: must be at least 16 characters/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads the bounce settings: defaults off, a lower-cased domain, the topic list, a tag key that survives key rotation', () => {
    expect(loadConfig(base).bounces).toMatchObject({
      domain: undefined,
      smtpPort: 2525,
      pauseRate: 0.05,
      complaintPauseRate: 0.003,
      sesTopicArns: [],
    });
    const c = loadConfig({
      ...base,
      BOUNCE_DOMAIN: 'Bounce.Cosmenor.no',
      SES_TOPIC_ARNS: 'arn:aws:sns:eu-north-1:123456789012:a, arn:aws:sns:eu-west-1:123456789012:b',
    });
    expect(c.bounces.domain).toBe('bounce.cosmenor.no');
    expect(c.bounces.sesTopicArns).toEqual([
      'arn:aws:sns:eu-north-1:123456789012:a',
      'arn:aws:sns:eu-west-1:123456789012:b',
    ]);
    const rotated = loadConfig({ ...base, TOKEN_KEYS: `k2:${'n'.repeat(32)},${base.TOKEN_KEYS}` });
    expect(rotated.bounces.tagKey).toBe(c.bounces.tagKey);
  });

  it('production without TOKEN_KEYS refuses to start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: base.DATA_DIR })).toThrow(
      /^TOKEN_KEYS: required when NODE_ENV=production$/,
    );
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).production).toBe(true);
  });

  it('reads DKIM and token keys, first key signs', () => {
    const c = loadConfig({
      ...base,
      TOKEN_KEYS: 'new:0123456789abcdef0123456789abcdefXX, old:fedcba9876543210fedcba9876543210YY',
      DKIM_DOMAIN: 'cosmenor.no',
      DKIM_SELECTOR: 's1',
      DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----',
    });
    expect(c.tokenKeys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(c.dkim).toEqual({
      domainName: 'cosmenor.no',
      keySelector: 's1',
      privateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
    });
  });
});
