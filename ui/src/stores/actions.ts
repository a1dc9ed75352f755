// What the command palette and the keyboard do with a profile, through the
// same stores and commands as the buttons: copying goes through Rust (the
// page gets a receipt, never the token), renewing reports like "Renew now".

import * as api from '../ipc/api';
import type { CopyFormat, ProfileView } from '../ipc/api';
import { toCommandError } from '../ipc/error';
import { profileWithTenant } from '../lib/names';
import type { ProfileAction } from '../lib/palette';
import { relativeTime } from '../lib/time';
import type { Stores } from './context';

const copyFormats: Partial<Record<ProfileAction, CopyFormat>> = {
  'copy-token': 'token',
  'copy-bearer': 'bearer',
  'copy-curl': 'curl',
};

/** Copies a profile's token in `format` (in Rust), and shows the receipt or what went wrong. */
export async function copyProfile(
  stores: Stores,
  profile: ProfileView,
  format: CopyFormat,
): Promise<void> {
  try {
    stores.notices.copied(await api.copyToken(profile.id, format));
  } catch (err) {
    stores.notices.showResult(false, toCommandError(err).message);
  }
}

async function renew(stores: Stores, profile: ProfileView): Promise<void> {
  const who = profileWithTenant(profile.name, profile.tenant);
  try {
    const event = await api.renewNow(profile.id);
    if (event.type === 'renewal-failed') stores.notices.showResult(false, event.message);
    else if (event.type === 'renewed') {
      stores.profiles.bumpRefreshed(profile.id);
      stores.notices.showResult(
        true,
        event.expires_at
          ? `Renewed ${who}; the new token expires ${relativeTime(event.expires_at, Date.now())}.`
          : `Renewed ${who}.`,
      );
    }
  } catch (err) {
    stores.notices.showResult(false, toCommandError(err).message);
  } finally {
    void stores.profiles.reload();
  }
}

export function runProfileAction(
  stores: Stores,
  action: ProfileAction,
  profile: ProfileView,
): void {
  const format = copyFormats[action];
  if (format) {
    void copyProfile(stores, profile, format);
    return;
  }
  switch (action) {
    case 'login':
      stores.logins.start(profile);
      break;
    case 'renew':
      void renew(stores, profile);
      break;
    case 'inspect':
      stores.view.openInspector(profile.id);
      break;
    case 'sign':
      stores.view.openDetail(profile.id);
      stores.view.askToSign(profile.id);
      break;
    case 'open':
      stores.view.select(profile.id);
      stores.view.openDetail(profile.id);
      break;
  }
}
