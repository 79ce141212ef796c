import { readInboundReport, deliveryOutcome } from '../../src/bounces/inbound-report';
import { VerpTags, deliveryTag } from '../../src/mail/verp';
import { arfComplaint, autoReply, postfixDsn } from './fixtures/reports';

const verp = new VerpTags('bounce.cosmenor.test', 'tag-key-0123456789abcdef0123456789');
const tagOf = (id: number) => verp.returnPath(deliveryTag(id), 'kari@dead.test');
const read = (raw: string) => readInboundReport(Buffer.from(raw), (text) => verp.findIn(text));

describe('reading reports that reach the bounce listener', () => {
  it('a Postfix DSN with Action: failed and Status 5.1.1 is a hard bounce with that code and the diagnostic', async () => {
    const to = tagOf(12);
    const r = await read(
      postfixDsn({ to, recipient: 'kari@dead.test', messageId: '<kk.c1.m2@cosmenor.no>' }),
    );
    expect(r).toEqual({
      kind: 'hard',
      statusCode: '5.1.1',
      diagnostic: 'mailbox unavailable <kari@dead.test>',
      tags: [to],
    });
  });

  it('4.x.x failures and delays are soft', async () => {
    const to = tagOf(13);
    const failed4 = await read(
      postfixDsn({ to, recipient: 'a@b.test', messageId: '<x@y>', status: '4.2.2' }),
    );
    expect(failed4?.kind).toBe('soft');
    const delayed = await read(
      postfixDsn({ to, recipient: 'a@b.test', messageId: '<x@y>', action: 'delayed', status: '4.4.1' }),
    );
    expect(delayed).toMatchObject({ kind: 'soft', statusCode: '4.4.1' });
    expect(
      deliveryOutcome(
        'Reporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b\nAction: delivered\nStatus: 2.0.0\n',
      ),
    ).toBeNull();
  });

  it('an abuse feedback report is a complaint, found through the original message', async () => {
    const r = await read(
      arfComplaint({ to: 'fbl@bounce.cosmenor.test', returnPath: tagOf(14), recipient: 'kari@example.no' }),
    );
    expect(r).toEqual({ kind: 'complaint', statusCode: null, diagnostic: null, tags: [tagOf(14)] });
  });

  it('a feedback report without the original message, or not about abuse, is not understood', async () => {
    const args = { to: tagOf(15), returnPath: tagOf(15), recipient: 'kari@example.no' };
    expect(await read(arfComplaint({ ...args, withOriginal: false }))).toBeNull();
    expect(await read(arfComplaint({ ...args, feedbackType: 'not-spam' }))).toBeNull();
  });

  it('auto-replies, plain text and broken MIME are not reports', async () => {
    expect(await read(autoReply(tagOf(16)))).toBeNull();
    expect(await read('just text')).toBeNull();
    expect(
      await read('Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n--x\r\n'),
    ).toBeNull();
  });
});
