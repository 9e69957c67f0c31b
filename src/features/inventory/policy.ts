import type { Context } from 'koa';
import type { Principal } from '../../http/context.ts';
import { requireAdmin } from '../../http/guards.ts';

/**
 * Everyone signed in may see what is on hand (a technician checks before asking); receiving,
 * adjustments, thresholds, receipts and the ledger (vendors, PO numbers, who took what) are for admins.
 */
export const canManageInventory = (user: Principal) => user.role === 'admin';

/** An inventory admin, or 403 (401 when signed out): the routes that receive, adjust and count. */
export const requireInventoryAdmin = (ctx: Context): Principal => requireAdmin(ctx, 'Only an admin can manage inventory.');
