import request from 'supertest';
import { startTestApp, buildSignUp, type TestApp } from '../support/test-app';

describe('metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exposes Prometheus text with route patterns, ledger and member gauges, and no personal data', async () => {
    await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp({ email: 'metrikk@example.no' }));
    await request(t.app).get('/v1/members/1').set('authorization', `Bearer ${t.tokens.read}`);
    await request(t.app).get('/u/some-token-value-here');
    const r = await request(t.app).get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.text).toMatch(
      /kundeklubb_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/members\/:id"/,
    );
    expect(r.text).toMatch(
      /kundeklubb_http_request_duration_seconds_count\{method="POST",route="\/v1\/members\/",status="201"\} 1/,
    );
    expect(r.text).toMatch(/kundeklubb_deliveries\{state="sent"\} 0/);
    expect(r.text).toMatch(/kundeklubb_members\{status="active"\} 1/);
    expect(r.text).toMatch(/kundeklubb_consent_events\{type="signup"\} 1/);
    expect(r.text).toMatch(/kundeklubb_queue_depth 0/);
    expect(r.text).toMatch(/kundeklubb_oldest_queued_age_seconds 0/);
    expect(r.text).not.toMatch(/metrikk|example\.no|some-token-value/);
  });
});
