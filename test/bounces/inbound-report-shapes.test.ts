import { readInboundReport, readReportStructure } from '../../src/bounces/inbound-report';
import { VerpTags, deliveryTag } from '../../src/mail/verp';
import { arfComplaint, postfixDsn } from './fixtures/reports';

const verp = new VerpTags('bounce.cosmenor.test', 'tag-key-0123456789abcdef0123456789');
const to = verp.returnPath(deliveryTag(21), 'kari@dead.test');
const read = (raw: string) => readInboundReport(Buffer.from(raw), (text) => verp.findIn(text));
const dsn = postfixDsn({ to, recipient: 'kari@dead.test', messageId: '<kk.c1.m2@cosmenor.no>' });
const hard = {
  kind: 'hard',
  statusCode: '5.1.1',
  diagnostic: 'mailbox unavailable <kari@dead.test>',
  tags: [to],
};

/** The status part of the Postfix DSN in another transfer encoding. */
function encodedStatus(encoding: 'base64' | 'quoted-printable'): string {
  const body = [
    'Reporting-MTA: dns; relay.test',
    '',
    'Final-Recipient: rfc822; kari@dead.test',
    'Action: failed',
    'Status: 5.2.2',
    '',
  ].join('\r\n');
  const encoded =
    encoding === 'base64' ? Buffer.from(body).toString('base64') : body.replace('Status: 5', 'Status: =35');
  return dsn.replace(
    /Content-Type: message\/delivery-status\r\n\r\n[\s\S]*?\r\n\r\n(?=--)/,
    `Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${encoded}\r\n\r\n`,
  );
}

describe('the shapes a report arrives in', () => {
  it('the plain shapes MTAs send are read without mailparser, with the same outcome', async () => {
    const arf = arfComplaint({
      to: 'fbl@bounce.cosmenor.test',
      returnPath: to,
      recipient: 'kari@example.no',
    });
    for (const raw of [dsn, arf]) expect(readReportStructure(Buffer.from(raw))).not.toBe('not plain');
    expect(await read(dsn)).toEqual(hard);
    expect(await read(arf)).toMatchObject({ kind: 'complaint', tags: [to] });
  });

  it('bare LF line ends, padding after a boundary, an unquoted boundary and comments read the same', async () => {
    expect(await read(dsn.replace(/\r\n/g, '\n'))).toEqual(hard);
    expect(await read(dsn.replace(/^(--99E802189A3[^\r\n]*)\r\n/gm, '$1 \t\r\n'))).toEqual(hard);
    const unquoted = dsn
      .replace('boundary="99E802189A3.1796085752/relay.test"', 'boundary=b-99E8')
      .replaceAll('--99E802189A3.1796085752/relay.test', '--b-99E8');
    expect(await read(unquoted)).toEqual(hard);
    expect(
      await read(dsn.replace('report-type=delivery-status;', 'report-type=delivery-status (DSN);')),
    ).toEqual(hard);
  });

  it('a status part in base64 or quoted-printable is decoded (by mailparser)', async () => {
    for (const encoding of ['base64', 'quoted-printable'] as const) {
      const raw = encodedStatus(encoding);
      expect(readReportStructure(Buffer.from(raw))).toBe('not plain');
      expect(await read(raw)).toMatchObject({ kind: 'hard', statusCode: '5.2.2', tags: [to] });
    }
  });

  it('a report whose closing boundary is missing is still read (by mailparser)', async () => {
    const raw = dsn.replace(/--99E802189A3\.1796085752\/relay\.test--\r\n$/, '');
    expect(readReportStructure(Buffer.from(raw))).toBe('not plain');
    expect(await read(raw)).toEqual(hard);
  });

  it('a second Content-Type header is not guessed at', async () => {
    const raw = dsn.replace('MIME-Version: 1.0', 'MIME-Version: 1.0\r\nContent-Type: text/plain');
    expect(readReportStructure(Buffer.from(raw))).toBe('not plain');
  });

  it('a line that only starts like the boundary does not split the report', async () => {
    const raw = dsn.replace(
      'This is a MIME-encapsulated message.',
      '--99E802189A3.1796085752/relay.testX is no boundary',
    );
    expect(readReportStructure(Buffer.from(raw))).not.toBe('not plain');
    expect(await read(raw)).toEqual(hard);
  });
});
