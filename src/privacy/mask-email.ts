/**
 * `kari.nordmann@example.no` → `k***@example.no`: enough for the person to recognise their
 * address on the unsubscribe page, too little for someone holding a forwarded newsletter to learn it.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
