import { VerpTags, deliveryTag, memberMailTag } from '../../src/mail/verp';

describe('VERP tags', () => {
  const verp = new VerpTags('bounce.cosmenor.no', 'tag-key-0123456789abcdef0123456789');

  it('name the message, carry a MAC, and fit the 64-character local part even for the largest ids', () => {
    const address = verp.returnPath(deliveryTag(2_147_483_647), 'kari@example.no');
    expect(address).toMatch(/^b-dzik0zj-[a-z2-7]{16}@bounce\.cosmenor\.no$/);
    expect(address.split('@')[0].length).toBeLessThanOrEqual(64);
    const tag = verp.parse(address)!;
    expect(tag.target).toEqual({ kind: 'delivery', id: 2_147_483_647 });
    expect(verp.verify(tag, 'kari@example.no')).toBe(true);
    expect(verp.verify(tag, 'KARI@example.no ')).toBe(true);
  });

  it('do not verify for another address, another message or an altered MAC', () => {
    const tag = verp.parse(verp.returnPath(memberMailTag(17), 'kari@example.no'))!;
    expect(tag.target).toEqual({ kind: 'member', id: 17 });
    expect(verp.verify(tag, 'ola@example.no')).toBe(false);
    const other = verp.parse(verp.returnPath(memberMailTag(18), 'kari@example.no'))!;
    expect(verp.verify({ ...tag, mac: other.mac }, 'kari@example.no')).toBe(false);
    const flipped = tag.mac.slice(0, -1) + (tag.mac.endsWith('a') ? 'b' : 'a');
    expect(verp.verify({ ...tag, mac: flipped }, 'kari@example.no')).toBe(false);
    expect(
      new VerpTags('bounce.cosmenor.no', 'another-key-0123456789abcdef012345').verify(tag, 'kari@example.no'),
    ).toBe(false);
  });

  it('survive a relay that folds the local part to upper case', () => {
    const address = verp.returnPath(deliveryTag(99), 'kari@example.no');
    const tag = verp.parse(address.toUpperCase())!;
    expect(verp.verify(tag, 'kari@example.no')).toBe(true);
  });

  it('read nothing from other domains and other shapes', () => {
    const address = verp.returnPath(deliveryTag(5), 'kari@example.no');
    expect(verp.parse(address.replace('bounce.cosmenor.no', 'evil.example'))).toBeNull();
    expect(verp.parse('postmaster@bounce.cosmenor.no')).toBeNull();
    expect(verp.parse('b-q5-aaaaaaaaaaaaaaaa@bounce.cosmenor.no')).toBeNull();
    expect(verp.parse('b-d0-aaaaaaaaaaaaaaaa@bounce.cosmenor.no')).toBeNull();
    expect(verp.parse(verp.returnPath('x', 'a@b.no'))!.target).toEqual({ kind: 'test' });
  });

  it('are found in a returned message', () => {
    const a = verp.returnPath(deliveryTag(5), 'kari@example.no');
    const b = verp.returnPath(memberMailTag(6), 'ola@example.no');
    expect(verp.findIn(`Return-Path: <${a}>\r\nX: ${b.toUpperCase()} and ${a}`)).toEqual([a, b]);
  });
});
