// What the window says after "Log out": Rust's report as it is, in the tone of
// what happened. Revoked at the server is plain information; tokens only
// forgotten here are a warning, since a copy made elsewhere stays valid.

import type { LogoutReport } from '../ipc/api';

export interface LogoutNote {
  profileId: number;
  tone: 'info' | 'warning';
  text: string;
}

export function logoutNote(profileId: number, report: LogoutReport): LogoutNote {
  return {
    profileId,
    tone: report.revoked ? 'info' : 'warning',
    text: report.message,
  };
}
