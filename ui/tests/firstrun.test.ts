import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { avassa, edgeProfile } from './fixtures';
import { fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const seeded = [
  'server sandbox-avassa',
  'profile sandbox-avassa (avassa-password): password alice-sandbox-password',
  'profile sandbox-dci (dci-hmac): remoteci ci of team acme',
];

describe('the first run', () => {
  it('without the sandbox in this build: what Latchkey does, and Add server', async () => {
    renderApp();
    const first = await screen.findByTestId('empty-state');
    expect(within(first).getByRole('heading', { name: 'Welcome to Latchkey' })).toBeInTheDocument();
    expect(within(first).getByRole('heading', { name: 'Start with a server' })).toBeInTheDocument();
    expect(within(first).queryByRole('button', { name: /sandbox/ })).not.toBeInTheDocument();
  });

  it('starts the offline sandbox, then lists what it seeded and how to log in', async () => {
    const { api } = renderApp({ sandbox: { available: true, url: null } });
    const user = userEvent.setup();
    const start = await screen.findByRole('button', { name: 'Start the offline sandbox' });
    expect(screen.getByRole('heading', { name: 'Try it offline' })).toBeInTheDocument();
    api.startSandbox.mockResolvedValueOnce({ url: 'http://127.0.0.1:4567', seeded });
    api.listServers.mockResolvedValue([{ ...avassa, name: 'sandbox-avassa' }]);
    api.listProfiles.mockResolvedValue([{ ...edgeProfile, name: 'sandbox-avassa' }]);
    await user.click(start);
    expect(api.startSandbox).toHaveBeenCalledTimes(1);
    expect(await screen.findByTestId('profile-item')).toHaveTextContent('sandbox-avassa');
    expect(screen.queryByTestId('empty-state')).not.toBeInTheDocument();
    const note = screen.getByTestId('sandbox-started');
    expect(note).toHaveTextContent('The offline sandbox runs at http://127.0.0.1:4567');
    const lines = within(screen.getByTestId('sandbox-seeded')).getAllByRole('listitem');
    expect(lines.map((l) => l.textContent)).toEqual([
      'sandbox-avassa (avassa-password): password alice-sandbox-password',
      'sandbox-dci (dci-hmac): remoteci ci of team acme',
    ]);
    await user.click(within(note).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('sandbox-started')).not.toBeInTheDocument();
  });

  it('a sandbox that cannot start says why, and Add server stays', async () => {
    const { api } = renderApp({ sandbox: { available: true, url: null } });
    api.startSandbox.mockRejectedValueOnce(
      fail({ code: 'internal', field: null, message: 'the sandbox cannot listen on 127.0.0.1' }),
    );
    await userEvent
      .setup()
      .click(await screen.findByRole('button', { name: 'Start the offline sandbox' }));
    expect(await screen.findByTestId('sandbox-error')).toHaveTextContent('cannot listen');
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Start the offline sandbox' })).toBeEnabled(),
    );
    expect(screen.getByRole('button', { name: 'Add server' })).toBeInTheDocument();
  });
});
