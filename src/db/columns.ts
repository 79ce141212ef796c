/**
 * Column options for TypeORM entity schemas, the same on SQLite and MySQL. Times are
 * DATETIME(3) holding UTC (see db/time.ts); `nullable` is always said out loud.
 */
export const idColumn = () => ({ type: 'integer' as const, primary: true, generated: 'increment' as const });

export const timeColumn = (name: string, nullable: boolean) => ({
  name,
  type: 'datetime' as const,
  precision: 3,
  nullable,
});

export const stringColumn = (name: string, length: number, nullable: boolean) => ({
  name,
  type: 'varchar' as const,
  length,
  nullable,
});

/** `text` maps to TEXT on both drivers for reads and writes (a migration may make it MEDIUMTEXT on MySQL). */
export const textColumn = (name: string, nullable: boolean) => ({ name, type: 'text' as const, nullable });

export const intColumn = (name: string, nullable = false) => ({ name, type: 'integer' as const, nullable });
