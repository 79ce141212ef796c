import type { Request } from 'express';

/**
 * Reads at most `max` bytes of a request body and discards the rest, never failing: the one-click
 * POST must answer 200 whatever a mail client sends (RFC 8058), so a parser error is no option.
 */
export function readBodyPrefix(req: Request, max = 16 * 1024): Promise<string> {
  return new Promise((resolve) => {
    if (req.readableEnded) return resolve('');
    const chunks: Buffer[] = [];
    let kept = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    req.on('data', (chunk: Buffer) => {
      if (kept >= max) return;
      const part = chunk.subarray(0, max - kept);
      chunks.push(part);
      kept += part.length;
    });
    req.on('end', finish);
    req.on('error', finish);
    req.on('close', finish);
  });
}

const ONE_CLICK_FORM = /(?:^|&)List-Unsubscribe=One-Click(?:&|$)/;
const ONE_CLICK_MULTIPART = /name="?List-Unsubscribe"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/i;

/** True when the body is the RFC 8058 one-click request, urlencoded or multipart. */
export function isOneClickBody(contentType: string | undefined, body: string): boolean {
  if ((contentType ?? '').toLowerCase().startsWith('multipart/form-data'))
    return ONE_CLICK_MULTIPART.test(body);
  return ONE_CLICK_FORM.test(body.trim());
}
