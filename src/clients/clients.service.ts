import crypto from 'node:crypto';
import { IsNull, type DataSource, type Repository } from 'typeorm';
import { AppError } from '../errors';
import type { Authenticator, Principal as AuthPrincipal } from '../http/auth';
import { ApiClientEntity, SCOPES, type ApiClient, type Scope } from './api-client.entity';

/** A client as the HTTP toolkit sees it (its scopes are this room's SCOPES). */
export interface Principal extends AuthPrincipal {
  scopes: ReadonlySet<Scope>;
}

const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** API clients (the apps, marketing, privacy staff) and their bearer tokens, stored only as hashes. */
export class ClientsService implements Authenticator {
  private readonly repo: Repository<ApiClient>;
  // Token lookups happen on every request; a short cache keeps them off the database. revoke()
  // clears it, so revocation holds at once here; other processes may accept the token 5 s more.
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(deps: { dataSource: DataSource }) {
    this.repo = deps.dataSource.getRepository(ApiClientEntity);
  }

  static parseScopes(list: string): Scope[] {
    const scopes = list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length) {
      throw new AppError(
        400,
        'bad-scopes',
        'Bad scopes',
        `scopes must be a comma list of ${SCOPES.join(', ')}`,
      );
    }
    return [...new Set(scopes)] as Scope[];
  }

  async create(name: string, scopes: Scope[]): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
      throw new AppError(400, 'bad-name', 'Bad name', 'name must be 1-100 of letters, digits, . _ -');
    }
    const existing = await this.repo.findOneBy({ name });
    if (existing && !existing.revokedAt)
      throw new AppError(409, 'conflict', 'Conflict', `client "${name}" exists`);
    if (existing) await this.repo.delete({ id: existing.id });
    const token = `kk_${crypto.randomBytes(32).toString('base64url')}`;
    await this.repo.insert({
      name,
      tokenHash: hash(token),
      scopes: scopes.join(','),
      createdAt: new Date(),
      revokedAt: null,
    });
    return token;
  }

  async list(): Promise<Array<{ name: string; scopes: string[]; createdAt: Date; revokedAt: Date | null }>> {
    const rows = await this.repo.find({ order: { name: 'ASC' } });
    return rows.map((r) => ({
      name: r.name,
      scopes: r.scopes.split(','),
      createdAt: r.createdAt,
      revokedAt: r.revokedAt,
    }));
  }

  async revoke(name: string): Promise<boolean> {
    const res = await this.repo.update({ name, revokedAt: IsNull() }, { revokedAt: new Date() });
    this.cache.clear();
    return (res.affected ?? 0) > 0;
  }

  async authenticate(token: string): Promise<Principal | null> {
    const key = hash(token);
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    const row = await this.repo.findOneBy({ tokenHash: key, revokedAt: IsNull() });
    const principal = row
      ? { clientId: row.id, name: row.name, scopes: new Set(row.scopes.split(',') as Scope[]) }
      : null;
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key, { principal, until: Date.now() + 5000 });
    return principal;
  }
}
