import type { Principal } from '../../http/context.ts';

/** Locations, transfers and reorder rules are managed by admins; everyone signed in may see them. */
export const canManageLocations = (user: Principal) => user.role === 'admin';
