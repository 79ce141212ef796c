import { EntitySchema } from 'typeorm';
import { idColumn, stringColumn, timeColumn } from '../db/columns';

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
    id: idColumn(),
    name: stringColumn('name', 100, false),
    tokenHash: stringColumn('token_hash', 64, false),
    scopes: stringColumn('scopes', 200, false),
    createdAt: timeColumn('created_at', false),
    revokedAt: timeColumn('revoked_at', true),
  },
});
