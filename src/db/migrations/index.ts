import { Initial1764072000000 } from './0001-initial';

/** Every migration, in order. Add new ones at the end; never edit one that has shipped. */
export const migrations = [Initial1764072000000];
