// What the window says when the scheduler reports something the user should
// know: a reminder before a token that needs them lapses, or a failed renewal.
// Successful renewals only reload the lists.

import type { LifecycleEvent } from '../ipc/api';
import { profileWithTenant } from './names';
import { localDateTime, relativeTime } from './time';

export interface LifecycleNotice {
  profileId: number;
  tone: 'warning' | 'error';
  text: string;
  /** Only the user can fix it (a reminder, a renewal that gave up): offer "Log in". */
  offersLogin: boolean;
}

/**
 * The notice for `event`, or null when there is nothing to announce. A renewal
 * failure is announced once, at the first failure in a row (as the desktop
 * notification is); `tenant` is the profile's, which that event does not carry.
 */
export function lifecycleNotice(
  event: LifecycleEvent,
  tenant: string | null,
  now: number,
): LifecycleNotice | null {
  switch (event.type) {
    case 'renewed':
      return null;
    case 'renewal-failed':
      if (!event.first) return null;
      return {
        profileId: event.profile_id,
        tone: 'error',
        text:
          `Renewing ${profileWithTenant(event.profile, tenant)} failed: ${event.message}` +
          (event.retrying ? ' (Latchkey tries again by itself)' : ''),
        offersLogin: !event.retrying,
      };
    case 'reminder': {
      const who = profileWithTenant(event.profile, event.tenant);
      return {
        profileId: event.profile_id,
        tone: event.expired ? 'error' : 'warning',
        text: event.expired
          ? `The token of ${who} has expired: log in again.`
          : `The token of ${who} expires ${relativeTime(event.expires_at, now)} ` +
            `(${localDateTime(event.expires_at)}) and cannot renew by itself: log in again before then.`,
        offersLogin: true,
      };
    }
  }
}
