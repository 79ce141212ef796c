import { hashPassword, verifyPassword } from '../../src/staff/passwords';

describe('staff passwords (scrypt)', () => {
  it('hashes with a fresh salt each time, as scrypt$N$r$p$salt$hash, and verifies only the same password', async () => {
    const a = await hashPassword('korrekt-hest-batteri');
    const b = await hashPassword('korrekt-hest-batteri');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    await expect(verifyPassword('korrekt-hest-batteri', a)).resolves.toBe(true);
    await expect(verifyPassword('korrekt-hest-batteri', b)).resolves.toBe(true);
    await expect(verifyPassword('Korrekt-hest-batteri', a)).resolves.toBe(false);
    await expect(verifyPassword('', a)).resolves.toBe(false);
  });

  it('treats the same text in another Unicode form as the same password (NFC)', async () => {
    const composed = 'blåbærsyltetøy-æøå';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    await expect(verifyPassword(decomposed, await hashPassword(composed))).resolves.toBe(true);
  });

  it('never verifies against a malformed or foreign stored hash', async () => {
    for (const stored of [
      '',
      'plaintext',
      'scrypt$32768$8$1$$',
      'bcrypt$2$abc$def$ghi$jkl',
      'scrypt$99999999$8$1$c2FsdA$aGFzaA',
    ]) {
      await expect(verifyPassword('x', stored)).resolves.toBe(false);
    }
  });
});
