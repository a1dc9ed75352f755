import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { avassa, edgeProfile, ghProfile, github, info } from './fixtures';
import { emit, fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

describe('the window', () => {
  it('shows the newest redirect outcome on load, refused ones as refused', async () => {
    renderApp({
      outcomes: [
        { accepted: true, profile: 'gh-work', message: 'logged in as gh-work' },
        { accepted: false, profile: null, message: 'no login is waiting for this redirect' },
      ],
    });
    const banner = await screen.findByTestId('redirect-outcome');
    expect(banner).toHaveAttribute('data-accepted', 'false');
    expect(banner.textContent?.trim()).toBe('no login is waiting for this redirect');
  });

  it('a redirect event replaces the banner, which can be dismissed', async () => {
    renderApp();
    await screen.findByTestId('empty-state');
    emit.redirectOutcome({ accepted: true, profile: 'gh-work', message: 'logged in as gh-work' });
    const banner = await screen.findByTestId('redirect-outcome');
    expect(banner).toHaveAttribute('data-accepted', 'true');
    expect(banner).toHaveTextContent('logged in as gh-work');
    await userEvent.setup().click(within(banner).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('redirect-outcome')).not.toBeInTheDocument();
  });

  it('warns when the keyring is unavailable, with the shell’s text', async () => {
    renderApp({ info: { ...info, keyring_problem: 'no Secret Service: start gnome-keyring' } });
    const banner = await screen.findByTestId('keyring-problem');
    expect(banner.textContent?.trim()).toBe('no Secret Service: start gnome-keyring');
  });

  it('shows no keyring warning when the keyring works', async () => {
    renderApp();
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('keyring-problem')).not.toBeInTheDocument();
  });

  it('reloads the lists when Rust says data changed, and when the window regains focus', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    await screen.findByTestId('profile-item');

    api.listServers.mockResolvedValue([avassa, github]);
    api.listProfiles.mockResolvedValue([edgeProfile, ghProfile]);
    emit.dataChanged();
    await waitFor(() => expect(screen.getAllByTestId('profile-item')).toHaveLength(2));

    api.listProfiles.mockResolvedValue([ghProfile]);
    fireEvent.focus(window);
    await waitFor(() => expect(screen.getAllByTestId('profile-item')).toHaveLength(1));
    expect(screen.getByTestId('profile-item')).toHaveTextContent('gh-work');
  });

  it('a profile picked in the tray is highlighted', async () => {
    renderApp({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    await screen.findAllByTestId('profile-item');
    emit.focusProfile({ id: 8 });
    await waitFor(() =>
      expect(screen.getAllByTestId('profile-item')[1]).toHaveAttribute('data-highlighted', 'true'),
    );
    expect(screen.getAllByTestId('profile-item')[0]).not.toHaveAttribute('data-highlighted');
  });

  it('a failed load shows the server’s message', async () => {
    const { api } = renderApp();
    api.listServers.mockRejectedValue(
      fail({ code: 'storage', field: null, message: 'cannot open the database' }),
    );
    emit.dataChanged();
    expect(await screen.findByTestId('load-error')).toHaveTextContent('cannot open the database');
    // Without a list there is nothing to say about it being empty.
    expect(screen.queryByTestId('empty-state')).not.toBeInTheDocument();
  });

  it('settings show the data folder and keyring service, and save the changed values', async () => {
    const { api } = renderApp();
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-settings'));
    const dialog = await screen.findByRole('dialog', { name: 'Settings' });
    expect(dialog).toHaveTextContent(info.data_dir);
    expect(dialog).toHaveTextContent(info.keyring_service);

    const closeToTray = await screen.findByTestId('settings-close-to-tray');
    await waitFor(() => expect(closeToTray).toBeEnabled());
    expect(closeToTray).toBeChecked();
    await user.click(closeToTray);
    const seconds = screen.getByTestId('settings-clipboard-clear-seconds');
    await user.clear(seconds);
    await user.type(seconds, '45');
    await user.click(screen.getByTestId('settings-save'));

    expect(api.setSettings).toHaveBeenCalledWith({
      close_to_tray: false,
      start_in_tray: false,
      clipboard_clear_seconds: 45,
      reminder_minutes: [1440, 60, 10, 0],
      expiring_minutes: 60,
    });
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('settings save the expiring warning in minutes', async () => {
    const { api } = renderApp();
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-settings'));
    const expiring = await screen.findByLabelText('Expiring warning (minutes before expiry)');
    expect(expiring).toBe(screen.getByTestId('settings-expiring-minutes'));
    await waitFor(() => expect(expiring).toHaveValue(60));
    await user.clear(expiring);
    await user.type(expiring, '15');
    await user.click(screen.getByTestId('settings-save'));
    expect(api.setSettings).toHaveBeenCalledWith(expect.objectContaining({ expiring_minutes: 15 }));
  });

  it('a refused setting shows next to its input', async () => {
    const { api } = renderApp();
    api.setSettings.mockRejectedValue(
      fail({
        code: 'invalid',
        field: 'clipboard_clear_seconds',
        message: 'clear the clipboard within a day',
      }),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-settings'));
    await waitFor(() => expect(screen.getByTestId('settings-save')).toBeEnabled());
    await user.click(screen.getByTestId('settings-save'));
    expect(await screen.findByTestId('error-clipboard_clear_seconds')).toHaveTextContent(
      'within a day',
    );
  });

  it('tells the shell once the first content is on screen', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    await screen.findByTestId('profile-item');
    await waitFor(() => expect(api.uiReady).toHaveBeenCalledTimes(1));
  });
});
