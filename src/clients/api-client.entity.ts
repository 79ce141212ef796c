import { EntitySchema } from 'typeorm';

export const SCOPES = ['members:write', 'members:read', 'campaigns', 'privacy', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiClient {
  id: number;
  name: string;
  tokenHash: string;
  scopes: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export const ApiClientEntity = new EntitySchema<ApiClient>({
  name: 'ApiClient',
  tableName: 'api_clients',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    name: { type: 'varchar', length: 100 },
    tokenHash: { name: 'token_hash', type: 'varchar', length: 64 },
    scopes: { type: 'varchar', length: 200 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    revokedAt: { name: 'revoked_at', type: 'datetime', precision: 3, nullable: true },
  },
});
