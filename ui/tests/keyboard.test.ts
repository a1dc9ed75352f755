import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { avassa, dci, dciProfile, edgeProfile, ghProfile, github, prodProfile } from './fixtures';
import { renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const world = {
  servers: [avassa, github, dci],
  profiles: [edgeProfile, ghProfile, prodProfile, dciProfile],
};

async function ready() {
  const rendered = renderApp(world);
  await screen.findAllByTestId('profile-item');
  return { ...rendered, user: userEvent.setup() };
}

describe('the command palette', () => {
  it('opens with Ctrl+K, finds by words, and copies a token through Rust on Enter', async () => {
    const { user, api } = await ready();
    await user.keyboard('{Control>}k{/Control}');
    const palette = await screen.findByRole('dialog', { name: 'Commands' });
    const input = within(palette).getByRole('combobox', { name: 'Command' });
    expect(input).toHaveFocus();
    await user.type(input, 'copy gh');
    const options = within(palette).getAllByRole('option');
    expect(options.map((o) => o.textContent?.trim())).toEqual([
      'Copy token: gh-work gh',
      'Copy “Bearer …”: gh-work gh',
      'Copy curl command: gh-work gh',
    ]);
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
    expect(input).toHaveAttribute('aria-activedescendant', options[0].id);
    await user.keyboard('{ArrowDown}');
    expect(options[1]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Enter}');
    expect(api.copyToken).toHaveBeenCalledWith(8, 'bearer');
    expect(await screen.findByTestId('copy-receipt')).toHaveTextContent('gh-work');
    expect(screen.queryByRole('dialog', { name: 'Commands' })).not.toBeInTheDocument();
  });

  it('logs in, renews and signs with the same steps as the buttons', async () => {
    const { user, api } = await ready();
    await user.click(screen.getByRole('button', { name: /Commands/ }));
    await user.type(screen.getByRole('combobox', { name: 'Command' }), 'log in edge-alice');
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('login-dialog')).toHaveTextContent('edge-alice');
    await user.keyboard('{Escape}');

    api.renewNow.mockResolvedValueOnce({
      type: 'renewed',
      profile_id: 12,
      profile: 'prod',
      expires_at: new Date(Date.now() + 8 * 3_600_000 + 60_000).toISOString(),
    });
    await user.keyboard('{Control>}k{/Control}');
    await user.type(await screen.findByRole('combobox', { name: 'Command' }), 'renew prod');
    await user.keyboard('{Enter}');
    expect(api.renewNow).toHaveBeenCalledWith(12);
    expect(await screen.findByTestId('action-result')).toHaveTextContent(
      'Renewed prod (tenant acme); the new token expires in 8 h.',
    );

    await user.keyboard('{Control>}k{/Control}');
    await user.type(await screen.findByRole('combobox', { name: 'Command' }), 'sign');
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('sign-dialog')).toBeInTheDocument();
    expect(screen.getByTestId('profile-detail')).toHaveTextContent('dci-ci');
  });

  it('runs the window’s commands too, and says when nothing matches', async () => {
    const { user } = await ready();
    await user.keyboard('{Control>}k{/Control}');
    const input = await screen.findByRole('combobox', { name: 'Command' });
    await user.type(input, 'zzz');
    expect(screen.getByRole('option')).toHaveTextContent('Nothing matches “zzz”.');
    await user.clear(input);
    await user.type(input, 'show the timeline');
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('radio', { name: 'Timeline' })).toBeChecked();
  });
});

describe('keys on the page', () => {
  it('`/` focuses the search', async () => {
    const { user } = await ready();
    await user.keyboard('/');
    expect(screen.getByRole('searchbox', { name: 'Search profiles' })).toHaveFocus();
    expect(screen.getByRole('searchbox', { name: 'Search profiles' })).toHaveValue('');
  });

  it('arrows move through the profiles as shown, with the focus; Enter opens one', async () => {
    const { user } = await ready();
    await user.keyboard('{ArrowDown}');
    const rows = screen.getAllByTestId('profile-item');
    expect(rows[0]).toHaveAttribute('data-selected', 'true');
    expect(within(rows[0]).getByRole('button', { name: 'edge-alice' })).toHaveFocus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(within(rows[2]).getByRole('button', { name: 'prod' })).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(rows[1]).toHaveAttribute('data-selected', 'true');
    await user.keyboard('{End}');
    expect(rows[3]).toHaveAttribute('data-selected', 'true');
    await user.keyboard('{Home}');
    expect(rows[0]).toHaveAttribute('data-selected', 'true');
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('profile-detail')).toHaveTextContent('edge-alice');
  });

  it('Ctrl+C copies the selected profile’s token through Rust, not while typing', async () => {
    const { user, api } = await ready();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    await user.keyboard('{Control>}c{/Control}');
    expect(api.copyToken).toHaveBeenCalledWith(8, 'token');
    expect(await screen.findByTestId('copy-receipt')).toHaveTextContent('gh-work');

    api.copyToken.mockClear();
    await user.click(screen.getByRole('searchbox', { name: 'Search profiles' }));
    await user.keyboard('{Control>}c{/Control}');
    expect(api.copyToken).not.toHaveBeenCalled();
  });

  it('a copy Rust refuses says why', async () => {
    const { user, api } = await ready();
    api.copyToken.mockRejectedValueOnce(
      Object.assign(new Error('edge-alice is not logged in: log in first'), {
        code: 'login-required',
        field: null,
      }),
    );
    await user.keyboard('{ArrowDown}');
    await user.keyboard('{Control>}c{/Control}');
    expect(await screen.findByTestId('action-result')).toHaveTextContent(
      'edge-alice is not logged in: log in first',
    );
  });

  it('`?` lists the shortcuts; Escape closes the list', async () => {
    const { user } = await ready();
    await user.keyboard('?');
    const help = await screen.findByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(help).toHaveTextContent('Command palette');
    expect(help).toHaveTextContent('Ctrl+K');
    expect(within(help).getAllByRole('row').length).toBeGreaterThan(8);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('the keys wait while a dialog is open', async () => {
    const { user, api } = await ready();
    await user.click(screen.getByTestId('open-settings'));
    await screen.findByRole('dialog', { name: 'Settings' });
    await user.keyboard('{Control>}k{/Control}');
    expect(screen.queryByRole('dialog', { name: 'Commands' })).not.toBeInTheDocument();
    await user.keyboard('{Control>}c{/Control}');
    expect(api.copyToken).not.toHaveBeenCalled();
  });
});
