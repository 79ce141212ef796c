import { maskEmail } from '../../src/privacy/mask-email';
import { isOneClickBody } from '../../src/privacy/read-body-prefix';

describe('maskEmail', () => {
  it('shows the first letter and the domain only', () => {
    expect(maskEmail('kari.nordmann@example.no')).toBe('k***@example.no');
    expect(maskEmail('a@b.no')).toBe('a***@b.no');
    expect(maskEmail('nonsense')).toBe('***');
  });
});

describe('isOneClickBody (RFC 8058)', () => {
  it('recognises the urlencoded one-click body', () => {
    expect(isOneClickBody('application/x-www-form-urlencoded', 'List-Unsubscribe=One-Click')).toBe(true);
    expect(isOneClickBody(undefined, 'List-Unsubscribe=One-Click\r\n')).toBe(true);
    expect(isOneClickBody('application/x-www-form-urlencoded', 'a=1&List-Unsubscribe=One-Click')).toBe(true);
  });

  it('recognises the multipart one-click body', () => {
    const body =
      '--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--xyz--\r\n';
    expect(isOneClickBody('multipart/form-data; boundary=xyz', body)).toBe(true);
  });

  it('anything else is the page button', () => {
    expect(isOneClickBody('application/x-www-form-urlencoded', '')).toBe(false);
    expect(isOneClickBody('application/x-www-form-urlencoded', 'List-Unsubscribe=Other')).toBe(false);
    expect(
      isOneClickBody(
        'multipart/form-data; boundary=xyz',
        '--xyz\r\nContent-Disposition: form-data; name="x"\r\n\r\nOne-Click\r\n--xyz--',
      ),
    ).toBe(false);
  });
});
