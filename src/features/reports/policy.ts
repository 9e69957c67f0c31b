import type { Principal } from '../../http/context.ts';
import { INVENTORY_REPORTS, type ReportName } from './schema.ts';

/** Admins see everyone's requests in the reports; anyone else, their own. */
export const canSeeAllRequests = (viewer: Principal): boolean => viewer.role === 'admin';

/** Inventory figures (consumption, days of cover) are for admins (DESIGN.md §17). */
export const canSeeReport = (viewer: Principal, name: ReportName): boolean =>
  viewer.role === 'admin' || !INVENTORY_REPORTS.includes(name);
