import type { Scope } from '../clients/api-client.entity';

export const STAFF_ROLES = ['marketing', 'privacy', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** The same scopes as the API (CONTRACT §2): a staff role is a fixed bundle of them. */
const ROLE_SCOPES: Record<StaffRole, readonly Scope[]> = {
  marketing: ['campaigns', 'members:read'],
  privacy: ['privacy', 'members:read'],
  admin: ['admin'],
};

export function roleHasScope(role: StaffRole, scope: Scope): boolean {
  const scopes = ROLE_SCOPES[role];
  return scopes.includes('admin') || scopes.includes(scope);
}

export function isStaffRole(s: string): s is StaffRole {
  return (STAFF_ROLES as readonly string[]).includes(s);
}
