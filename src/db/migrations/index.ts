import { Initial1764072000000 } from './0001-initial';
import { Delivery1764072300000 } from './1764072300000-delivery';
import { Admin1764072400000 } from './1764072400000-admin';
import { Security1764072500000 } from './1764072500000-security';
import { Bounces1764072600000 } from './1764072600000-bounces';
import { Clicks1764072900000 } from './1764072900000-clicks';
import { Events1764072700000 } from './1764072700000-events';
import { Imports1764073000000 } from './1764073000000-imports';
import { MemberSearch1764073100000 } from './1764073100000-member-search';

/** Every migration, in order. Add new ones at the end; never edit one that has shipped. */
export const migrations = [
  Initial1764072000000,
  Delivery1764072300000,
  Admin1764072400000,
  Security1764072500000,
  Clicks1764072900000,
  Bounces1764072600000,
  Events1764072700000,
  Imports1764073000000,
  MemberSearch1764073100000,
];
