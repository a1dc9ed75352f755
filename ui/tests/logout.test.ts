// "Log out" reports what Rust did: revoked at the server (information), or
// only forgotten here (a warning: a copy made elsewhere stays valid).

import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { LogoutReport } from '../src/ipc/api';
import { logoutNote } from '../src/lib/logout';
import { avassa, catalog, edgeProfile, prodProfile } from './fixtures';
import { fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const revoked: LogoutReport = {
  message: 'Logged out prod: the server revoked the tokens and Latchkey forgot them.',
  revoked: true,
  end_session_url: null,
};

const forgotten: LogoutReport = {
  message:
    'Forgot the tokens of prod, but the server did not revoke them (cannot reach api.edge.example.com): a copy made elsewhere stays valid until it expires.',
  revoked: false,
  end_session_url: null,
};

/** Logs prod out from its detail, Rust answering `report`. */
async function logOut(report: LogoutReport | Error) {
  const rendered = renderApp({ servers: [avassa], profiles: [prodProfile, edgeProfile] });
  if (report instanceof Error) rendered.api.logout.mockRejectedValue(report);
  else rendered.api.logout.mockResolvedValue(report);
  const user = userEvent.setup();
  await user.click((await screen.findAllByTestId('profile-open'))[0]);
  const panel = await screen.findByTestId('profile-detail');
  await user.click(within(panel).getByTestId('logout'));
  const confirm = await screen.findByRole('dialog', { name: 'Log out of prod' });
  await user.click(within(confirm).getByRole('button', { name: 'Log out' }));
  return { ...rendered, user, panel, confirm };
}

describe('the logout report', () => {
  it('shows Rust’s message after the confirmation closes, as a status note', async () => {
    const { api } = await logOut(revoked);
    expect(api.logout).toHaveBeenCalledWith(12);
    const note = await screen.findByTestId('logout-note');
    expect(note).toHaveRole('status');
    expect(note).toHaveTextContent(revoked.message);
    expect(screen.queryByRole('dialog', { name: 'Log out of prod' })).not.toBeInTheDocument();
    // The lists reload (the start asked only for the first screen): the profile has no token any more.
    await waitFor(() => expect(api.listProfiles.mock.calls.length).toBeGreaterThan(0));
  });

  it('is information when the server revoked, a warning when the tokens were only forgotten', () => {
    expect(logoutNote(12, { ...revoked, revoked: true } as LogoutReport).tone).toBe('info');
    expect(logoutNote(12, { ...forgotten, revoked: false } as LogoutReport)).toEqual({
      profileId: 12,
      tone: 'warning',
      text: forgotten.message,
    });
  });

  it('a warning shows in the warning style, with its icon', async () => {
    await logOut({ ...forgotten, revoked: false } as LogoutReport);
    const note = await screen.findByTestId('logout-note');
    expect(note).toHaveAttribute('data-tone', 'warning');
    expect(note).toHaveClass('warning');
    expect(note.querySelector('.banner-icon')).not.toBeNull();
    expect(note).toHaveTextContent('a copy made elsewhere stays valid until it expires');
  });

  it('says when the provider’s sign-out page was opened, as Rust appended it', async () => {
    await logOut({
      message:
        'Logged out prod: the server revoked the tokens and Latchkey forgot them. The provider’s sign-out page was opened in the browser.',
      revoked: true,
      end_session_url: 'https://id.example.com/logout?id_token_hint=…',
    });
    expect(await screen.findByTestId('logout-note')).toHaveTextContent(
      'The provider’s sign-out page was opened in the browser.',
    );
  });

  it('can be dismissed, and goes when the profile logs in again', async () => {
    const { user, panel } = await logOut(revoked);
    await user.click(
      within(await screen.findByTestId('logout-note')).getByTestId('logout-note-dismiss'),
    );
    expect(screen.queryByTestId('logout-note')).not.toBeInTheDocument();

    await user.click(within(panel).getByTestId('logout'));
    const confirm = await screen.findByRole('dialog', { name: 'Log out of prod' });
    await user.click(within(confirm).getByRole('button', { name: 'Log out' }));
    await screen.findByTestId('logout-note');
    await user.click(within(screen.getByTestId('profile-detail')).getByTestId('login'));
    await screen.findByTestId('login-dialog');
    expect(screen.queryByTestId('logout-note')).not.toBeInTheDocument();
  });

  it('the confirmation adds what logging out does beyond the profile, where the login kind says', async () => {
    const rendered = renderApp({ servers: [avassa], profiles: [prodProfile] });
    // Asked on mount, after the redirect outcomes: this answer is the one used.
    rendered.api.catalog.mockResolvedValue({
      ...catalog,
      logins: catalog.logins.map((spec) =>
        spec.login === 'avassa-password'
          ? { ...spec, logout_warning: 'This also ends your web session in the browser.' }
          : spec,
      ),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-open'));
    await user.click(within(await screen.findByTestId('profile-detail')).getByTestId('logout'));
    const confirm = await screen.findByRole('dialog', { name: 'Log out of prod' });
    expect(confirm).toHaveTextContent(
      'log in again to get a new token. This also ends your web session in the browser.',
    );
  });

  it('a failed logout keeps the confirmation open with the error, and shows no note', async () => {
    const { confirm } = await logOut(
      fail({
        code: 'keyring-unavailable',
        field: null,
        message: 'the keyring is locked: unlock it',
      }),
    );
    expect(await within(confirm).findByTestId('form-error')).toHaveTextContent(
      'the keyring is locked: unlock it',
    );
    expect(screen.queryByTestId('logout-note')).not.toBeInTheDocument();
  });
});
