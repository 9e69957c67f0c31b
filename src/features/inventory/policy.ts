import type { Principal } from '../../http/context.ts';

/**
 * Everyone signed in may see what is on hand (a technician checks before asking); receiving,
 * adjustments, thresholds, receipts and the ledger (vendors, PO numbers, who took what) are for admins.
 */
export const canManageInventory = (user: Principal) => user.role === 'admin';
