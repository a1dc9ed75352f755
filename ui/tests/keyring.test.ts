import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { info } from './fixtures';
import { emit, fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const locked = {
  state: 'locked' as const,
  message: 'the keyring is locked: unlock it (your login password) and try again',
};
const absent = {
  state: 'absent' as const,
  message: 'no keyring service is running: start one with gnome-keyring-daemon --start',
};

describe('the keyring banner', () => {
  it('a locked keyring: says so in words, offers Unlock, and goes once it is unlocked', async () => {
    const { api } = renderApp({
      info: { ...info, keyring: locked, keyring_problem: locked.message },
    });
    const banner = await screen.findByRole('alert', { name: 'The keyring is locked:' });
    expect(banner).toHaveAttribute('data-state', 'locked');
    expect(banner).toHaveTextContent(`The keyring is locked: ${locked.message}`);
    const user = userEvent.setup();
    await user.click(within(banner).getByRole('button', { name: 'Unlock' }));
    expect(api.checkKeyring).toHaveBeenCalledWith(true);
    await waitFor(() => expect(screen.queryByTestId('keyring-banner')).not.toBeInTheDocument());
  });

  it('no keyring: says how to start one, without Unlock; Check again keeps it while it is absent', async () => {
    const { api } = renderApp({
      info: { ...info, keyring: absent, keyring_problem: absent.message },
    });
    const banner = await screen.findByTestId('keyring-banner');
    expect(banner).toHaveTextContent(/^No keyring: .*gnome-keyring-daemon --start/);
    expect(within(banner).queryByRole('button', { name: 'Unlock' })).not.toBeInTheDocument();
    api.checkKeyring.mockResolvedValueOnce(absent);
    await userEvent.setup().click(within(banner).getByRole('button', { name: 'Check again' }));
    expect(api.checkKeyring).toHaveBeenCalledWith(false);
    expect(screen.getByTestId('keyring-banner')).toBeInTheDocument();
  });

  it('clears itself when Rust says the keyring works, and comes back when it fails again', async () => {
    renderApp({ info: { ...info, keyring: absent, keyring_problem: absent.message } });
    await screen.findByTestId('keyring-banner');
    emit.keyringChanged({ state: 'ok', message: null });
    await waitFor(() => expect(screen.queryByTestId('keyring-banner')).not.toBeInTheDocument());
    emit.keyringChanged({ state: 'broken', message: 'the keyring answered wrongly' });
    expect(await screen.findByTestId('keyring-banner')).toHaveTextContent(
      'The keyring failed: the keyring answered wrongly',
    );
  });

  it('a check that cannot run says why, and the banner stays', async () => {
    const { api } = renderApp({
      info: { ...info, keyring: locked, keyring_problem: locked.message },
    });
    api.checkKeyring.mockRejectedValueOnce(
      fail({ code: 'internal', field: null, message: 'the check did not finish' }),
    );
    const banner = await screen.findByTestId('keyring-banner');
    await userEvent.setup().click(within(banner).getByRole('button', { name: 'Check again' }));
    expect(await screen.findByTestId('keyring-check-error')).toHaveTextContent(
      'the check did not finish',
    );
    expect(screen.getByTestId('keyring-banner')).toBeInTheDocument();
  });

  it('shows nothing while the keyring is being checked, or works', async () => {
    renderApp({ info: { ...info, keyring: { state: 'checking', message: null } } });
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('keyring-banner')).not.toBeInTheDocument();
  });
});
