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
    emit.focusProfile({ id: 8, login: false });
    await waitFor(() =>
      expect(screen.getAllByTestId('profile-item')[1]).toHaveAttribute('data-highlighted', 'true'),
    );
    expect(screen.getAllByTestId('profile-item')[0]).not.toHaveAttribute('data-highlighted');
  });

  it('a clicked notification shows the profile and logs it in', async () => {
    const { api } = renderApp({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    await screen.findAllByTestId('profile-item');
    emit.focusProfile({ id: 7, login: true });
    await waitFor(() => expect(api.login).toHaveBeenCalledWith(7, null, false));
    expect(await screen.findByTestId('login-done')).toHaveTextContent('edge-alice');
    expect(screen.getAllByTestId('profile-item')[0]).toHaveAttribute('data-highlighted', 'true');
    expect(screen.getByTestId('profile-detail')).toBeInTheDocument();
  });

  it('a clicked reminder logs in with the remembered password, to the OTP dialog', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    await screen.findByTestId('profile-item');
    api.login.mockResolvedValueOnce({
      step: 'needs-otp',
      profile: 'edge-alice',
      tenant: 'acme',
      message: 'enter the code from your authenticator app',
    });
    emit.focusProfile({ id: 7, login: true });
    expect(await screen.findByTestId('otp-dialog')).toHaveTextContent('edge-alice');
    expect(api.login).toHaveBeenCalledWith(7, null, false);
    expect(screen.queryByTestId('login-dialog')).not.toBeInTheDocument();
  });

  it('a clicked reminder asks for the password when none is remembered', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    await screen.findByTestId('profile-item');
    api.login.mockRejectedValueOnce(
      fail({ code: 'invalid', field: 'password', message: 'type the password of alice' }),
    );
    emit.focusProfile({ id: 7, login: true });
    expect(await screen.findByTestId('login-dialog')).toHaveTextContent('edge-alice');
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
      login_wait_minutes: 10,
      theme: 'system',
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

  it('settings save how long a browser login waits, and show a refusal next to it', async () => {
    const { api } = renderApp();
    api.setSettings.mockRejectedValueOnce(
      fail({
        code: 'invalid',
        field: 'login_wait_minutes',
        message: 'a login waits between 1 and 60 minutes for the browser',
      }),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-settings'));
    const wait = await screen.findByLabelText('Browser login wait (minutes)');
    await waitFor(() => expect(wait).toHaveValue(10));
    await user.clear(wait);
    await user.type(wait, '90');
    await user.click(screen.getByTestId('settings-save'));
    expect(await screen.findByTestId('error-login_wait_minutes')).toHaveTextContent(
      'between 1 and 60',
    );
    await user.clear(wait);
    await user.type(wait, '20');
    await user.click(screen.getByTestId('settings-save'));
    expect(api.setSettings).toHaveBeenLastCalledWith(
      expect.objectContaining({ login_wait_minutes: 20 }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
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

describe('the layout with a panel open', () => {
  const section = () => screen.getByTestId('profile-list').closest('section')!;
  const columns = () => screen.getByTestId('profile-list').closest('.columns')!;

  async function withDetail() {
    const rendered = renderApp({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    const user = userEvent.setup();
    await screen.findAllByTestId('profile-item');
    expect(screen.getByTestId('server-list')).toBeInTheDocument();
    expect(screen.queryByTestId('servers-expand')).not.toBeInTheDocument();
    expect(screen.queryByTestId('servers-collapse')).not.toBeInTheDocument();
    expect(section()).not.toHaveClass('compact');
    await user.click(within(screen.getAllByTestId('profile-item')[0]).getByTestId('profile-open'));
    await screen.findByTestId('profile-detail');
    return { ...rendered, user };
  }

  it('shrinks the servers to a rail and the profile list to its compact form', async () => {
    await withDetail();
    expect(columns()).toHaveClass('railed');
    expect(screen.queryByTestId('server-list')).not.toBeInTheDocument();
    expect(screen.getByTestId('servers-expand')).toHaveAttribute('aria-expanded', 'false');
    expect(section()).toHaveClass('compact');
    // The columns a narrow list drops are marked as such; name, tenant, status and expiry stay.
    const row = screen.getAllByTestId('profile-item')[0];
    expect(row.querySelector('.col-login')).toHaveTextContent('Avassa password');
    expect(row.querySelector('.col-label')).toHaveTextContent('staging edge');
    expect(row.querySelector('.col-name')).toHaveTextContent('edge-alice');
    for (const id of ['profile-row-tenant', 'profile-status', 'profile-expires']) {
      expect(within(row).getByTestId(id).closest('td')!.className).not.toMatch(/col-/);
    }
    // Every action is still a button of its own, named for the row.
    expect(within(row).getByTestId('profile-login')).toHaveAccessibleName('Log in with edge-alice');
    expect(within(row).getByTestId('profile-open')).toHaveAccessibleName('Show profile edge-alice');
    expect(within(row).getByTestId('profile-edit')).toHaveAccessibleName('Edit profile edge-alice');
    expect(within(row).getByTestId('profile-remove')).toHaveAccessibleName(
      'Remove profile edge-alice',
    );
  });

  it('the rail brings the servers back, and they can go again', async () => {
    const { user } = await withDetail();
    await user.click(screen.getByTestId('servers-expand'));
    expect(screen.getByTestId('server-list')).toBeInTheDocument();
    expect(columns()).not.toHaveClass('railed');
    const collapse = screen.getByTestId('servers-collapse');
    await waitFor(() => expect(collapse).toHaveFocus());
    // The profile detail stays open meanwhile.
    expect(screen.getByTestId('profile-detail')).toBeInTheDocument();
    await user.click(collapse);
    expect(screen.queryByTestId('server-list')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('servers-expand')).toHaveFocus());
  });

  it('closing the panel gives the servers and the full list back', async () => {
    const { user } = await withDetail();
    await user.click(
      within(screen.getByTestId('profile-detail')).getByRole('button', { name: 'Close' }),
    );
    expect(screen.getByTestId('server-list')).toBeInTheDocument();
    expect(screen.queryByTestId('servers-expand')).not.toBeInTheDocument();
    expect(screen.queryByTestId('servers-collapse')).not.toBeInTheDocument();
    expect(section()).not.toHaveClass('compact');
  });
});

describe('messages from Rust', () => {
  it('no stylesheet re-cases them (names in them are case-sensitive)', () => {
    const sources = import.meta.glob<string>('../src/**/*.{css,svelte}', {
      query: '?raw',
      import: 'default',
      eager: true,
    });
    expect(Object.keys(sources).length).toBeGreaterThan(5);
    for (const [file, text] of Object.entries(sources)) {
      expect(text, file).not.toMatch(/::?first-letter|text-transform:\s*capitalize/);
    }
  });
});
