import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ProfileList from '../src/components/ProfileList.svelte';
import type { ProfileView } from '../src/ipc/api';
import {
  avassa,
  credentialOf,
  dciProfile,
  edgeProfile,
  ghProfile,
  github,
  prodProfile,
} from './fixtures';
import { emit, fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const NOW = Date.parse('2030-01-01T12:00:00Z');

afterEach(() => {
  vi.useRealTimers();
});

/** The app with `profiles`, and the detail of the first one open. */
async function openDetail(profiles: ProfileView[] = [prodProfile], options = {}) {
  const rendered = renderApp({ servers: [avassa, github], profiles });
  const user = userEvent.setup(options);
  await user.click((await screen.findAllByTestId('profile-open'))[0]);
  const panel = await screen.findByTestId('profile-detail');
  await within(panel).findAllByTestId('history-item');
  return { ...rendered, user, panel };
}

function renderList(profiles: ProfileView[]) {
  return render(ProfileList, {
    props: {
      profiles,
      highlightId: null,
      openId: null,
      onopen: () => {},
      onedit: () => {},
      onremove: () => {},
    },
  });
}

/** An element's text as it reads, whitespace collapsed. */
const text = (el: Element) => el.textContent?.replace(/\s+/g, ' ').trim();

const expiringIn = (ms: number): ProfileView => ({
  ...ghProfile,
  status: 'expiring',
  status_label: 'expiring',
  expires_at: new Date(NOW + ms).toISOString(),
});

describe('the expiry column', () => {
  it('shows a countdown, "no expiry" for a token that does not say, and "—" before login', async () => {
    renderApp({
      servers: [avassa, github],
      profiles: [edgeProfile, { ...ghProfile, expires_at: null, status: 'unknown' }, prodProfile],
    });
    const cells = (await screen.findAllByTestId('profile-expires')).map((c) => c.textContent);
    expect(cells[0]).toBe('—');
    expect(cells[1]).toBe('no expiry');
    expect(cells[2]).toMatch(/^in \d+ (d|months|years)$/);
  });

  it('ticks every second while a token has under an hour left', async () => {
    vi.useFakeTimers({ now: NOW });
    renderList([expiringIn(120_000)]);
    const cell = screen.getByTestId('profile-expires');
    expect(cell).toHaveTextContent('in 2 m 0 s');
    await vi.advanceTimersByTimeAsync(1000);
    await tick();
    expect(cell).toHaveTextContent('in 1 m 59 s');
    await vi.advanceTimersByTimeAsync(60_000);
    await tick();
    expect(cell).toHaveTextContent('in 59 s');
  });

  it('ticks only every 30 s while every token has more than an hour left', async () => {
    vi.useFakeTimers({ now: NOW });
    renderList([expiringIn((2 * 60 + 10) * 60_000)]);
    const cell = screen.getByTestId('profile-expires');
    expect(cell).toHaveTextContent('in 2 h 10 m');
    await vi.advanceTimersByTimeAsync(1000);
    await tick();
    // A redraw now would say "in 2 h 9 m".
    expect(cell).toHaveTextContent('in 2 h 10 m');
    await vi.advanceTimersByTimeAsync(29_000);
    await tick();
    expect(cell).toHaveTextContent('in 2 h 9 m');
  });

  it('the open button and the profile name both open its detail', async () => {
    renderApp({ servers: [avassa, github], profiles: [edgeProfile, prodProfile] });
    const user = userEvent.setup();
    await user.click((await screen.findAllByTestId('profile-open'))[1]);
    expect(await screen.findByRole('dialog', { name: /prod/ })).toHaveAttribute(
      'data-testid',
      'profile-detail',
    );
    await user.click(screen.getByRole('button', { name: 'edge-alice' }));
    expect(await screen.findByRole('dialog', { name: /edge-alice/ })).toBeInTheDocument();
  });
});

describe('the profile detail', () => {
  it('names server, tenant and login, and shows the token’s times, scopes and claims', async () => {
    const { api, panel } = await openDetail();
    expect(api.credential).toHaveBeenCalledWith(12);
    expect(within(panel).getByTestId('detail-tenant')).toHaveTextContent('tenant acme');
    expect(panel).toHaveTextContent('edge');
    expect(panel).toHaveTextContent('Avassa password');
    expect(within(panel).getByTestId('detail-status')).toHaveTextContent('valid');
    const token = within(panel).getByTestId('token-info');
    expect(token).toHaveTextContent('Access token');
    expect(token).toHaveTextContent(new Date('2030-01-01T14:00:00Z').toLocaleString());
    expect(token).toHaveTextContent(new Date('2030-01-01T13:30:00Z').toLocaleString());
    expect(token).toHaveTextContent('read write');
    const summary = within(panel).getAllByTestId('token-summary');
    expect(summary.map(text)).toEqual(['sub alice', 'iss https://api.edge.example.com']);
    expect(within(panel).queryByTestId('last-error')).not.toBeInTheDocument();
  });

  it('shows the last renewal error in the server’s own words', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [prodProfile] });
    api.credential.mockResolvedValue(
      credentialOf(prodProfile, { last_error: 'invalid_grant: refresh token revoked' }),
    );
    await userEvent.setup().click(await screen.findByTestId('profile-open'));
    expect(await screen.findByTestId('last-error')).toHaveTextContent(
      'invalid_grant: refresh token revoked',
    );
  });

  it('lists the history newest first, each event in words', async () => {
    const { panel } = await openDetail();
    const items = within(panel).getAllByTestId('history-item');
    expect(items.map((i) => i.querySelector('.event')?.textContent)).toEqual([
      'copied',
      'renewed',
      'renewal failed',
      'issued',
    ]);
    expect(items[0]).toHaveTextContent(new Date('2030-01-01T12:05:00Z').toLocaleString());
    expect(items[0]).toHaveTextContent('Authorization header');
  });

  it('reloads when Rust says data changed', async () => {
    const { api } = await openDetail();
    const before = api.credential.mock.calls.length;
    emit.dataChanged();
    await waitFor(() => expect(api.credential.mock.calls.length).toBeGreaterThan(before));
  });

  it('each copy button asks Rust to copy in its own format', async () => {
    const { api, user, panel } = await openDetail();
    for (const format of ['token', 'bearer', 'header', 'curl'] as const) {
      await user.click(within(panel).getByTestId(`copy-${format}`));
    }
    expect(api.copyToken.mock.calls).toEqual([
      [12, 'token'],
      [12, 'bearer'],
      [12, 'header'],
      [12, 'curl'],
    ]);
  });

  it('Ctrl+Shift+C copies the token and Ctrl+Shift+H the header, as the buttons’ titles say', async () => {
    const { api, user, panel } = await openDetail();
    expect(within(panel).getByTestId('copy-token')).toHaveAttribute(
      'title',
      expect.stringContaining('Ctrl+Shift+C'),
    );
    expect(within(panel).getByTestId('copy-header')).toHaveAttribute(
      'title',
      expect.stringContaining('Ctrl+Shift+H'),
    );
    await user.keyboard('{Control>}{Shift>}C{/Shift}{/Control}');
    await waitFor(() => expect(api.copyToken).toHaveBeenCalledWith(12, 'token'));
    await user.keyboard('{Control>}{Shift>}H{/Shift}{/Control}');
    await waitFor(() => expect(api.copyToken).toHaveBeenCalledWith(12, 'header'));
  });

  it('copy is disabled, saying why, when the token has expired or there is none', async () => {
    const expired: ProfileView = { ...prodProfile, status: 'expired', status_label: 'expired' };
    const { panel } = await openDetail([expired]);
    for (const format of ['token', 'bearer', 'header', 'curl']) {
      const button = within(panel).getByTestId(`copy-${format}`);
      expect(button).toBeDisabled();
      expect(button).toHaveAttribute('title', expect.stringMatching(/expired/));
    }
  });

  it('copying a token that is not there shows Rust’s message', async () => {
    const { api, user, panel } = await openDetail();
    api.copyToken.mockRejectedValue(
      fail({ code: 'login-required', field: null, message: 'the token of prod expired: log in' }),
    );
    await user.click(within(panel).getByTestId('copy-token'));
    const result = await within(panel).findByTestId('action-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveTextContent('the token of prod expired: log in');
  });

  it('a DCI profile, which signs requests instead, has no copy buttons', async () => {
    const { panel } = await openDetail([dciProfile]);
    expect(within(panel).queryByTestId('copy-token')).not.toBeInTheDocument();
    expect(within(panel).queryByTestId('copy-curl')).not.toBeInTheDocument();
  });

  it('"Renew now" is offered only where Latchkey can renew, and reports a failure', async () => {
    const { api, user, panel } = await openDetail([prodProfile, ghProfile]);
    api.renewNow.mockResolvedValue({
      type: 'renewal-failed',
      profile_id: 12,
      profile: 'prod',
      message: 'invalid_grant: refresh token expired',
      first: true,
      retrying: false,
      cause: 'needs-user',
    });
    await user.click(within(panel).getByTestId('renew-now'));
    expect(api.renewNow).toHaveBeenCalledWith(12);
    const result = await within(panel).findByTestId('action-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveTextContent('invalid_grant: refresh token expired');

    await user.click(screen.getAllByTestId('profile-open')[1]);
    const other = await screen.findByRole('dialog', { name: /gh-work/ });
    expect(within(other).queryByTestId('renew-now')).not.toBeInTheDocument();
  });

  it('logging out asks first, naming profile and tenant, then forgets the tokens', async () => {
    const { api, user, panel } = await openDetail();
    await user.click(within(panel).getByTestId('logout'));
    const confirm = await screen.findByRole('dialog', { name: 'Log out of prod' });
    expect(confirm).toHaveTextContent('Forget the tokens of prod (tenant acme)?');
    expect(api.logout).not.toHaveBeenCalled();
    await user.click(within(confirm).getByRole('button', { name: 'Log out' }));
    expect(api.logout).toHaveBeenCalledWith(12);
    await waitFor(() =>
      expect(screen.queryByRole('dialog', { name: 'Log out of prod' })).not.toBeInTheDocument(),
    );
  });

  it('Escape closes the detail', async () => {
    const { user } = await openDetail();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('profile-detail')).not.toBeInTheDocument();
  });
});

describe('the copy receipt', () => {
  it('names what was copied, of which profile and tenant, and counts down until the clipboard clears, then goes', async () => {
    vi.useFakeTimers({ now: NOW, shouldAdvanceTime: true });
    const { api, user, panel } = await openDetail([prodProfile], {
      advanceTimers: vi.advanceTimersByTime,
    });
    api.copyToken.mockResolvedValue({
      profile: 'prod',
      tenant: 'acme',
      what: 'Authorization header',
      clear_after_seconds: 27,
    });
    await user.click(within(panel).getByTestId('copy-header'));
    const receipt = await screen.findByTestId('copy-receipt');
    expect(receipt).toHaveRole('status');
    expect(text(receipt)).toBe(
      'Copied the Authorization header of prod (tenant acme) — clipboard clears in 27 s',
    );
    await vi.advanceTimersByTimeAsync(26_000);
    expect(screen.getByTestId('copy-countdown')).toHaveTextContent('clipboard clears in 1 s');
    await vi.advanceTimersByTimeAsync(1_000);
    await waitFor(() => expect(screen.queryByTestId('copy-receipt')).not.toBeInTheDocument());
  });

  it('says when the clipboard is not cleared, and goes after 5 s', async () => {
    vi.useFakeTimers({ now: NOW, shouldAdvanceTime: true });
    const { api, user, panel } = await openDetail([prodProfile], {
      advanceTimers: vi.advanceTimersByTime,
    });
    api.copyToken.mockResolvedValue({
      profile: 'prod',
      tenant: 'acme',
      what: 'token',
      clear_after_seconds: 0,
    });
    await user.click(within(panel).getByTestId('copy-token'));
    expect(await screen.findByTestId('copy-countdown')).toHaveTextContent(
      'clipboard is not cleared automatically',
    );
    await vi.advanceTimersByTimeAsync(4_000);
    expect(screen.getByTestId('copy-receipt')).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(1_000);
    await waitFor(() => expect(screen.queryByTestId('copy-receipt')).not.toBeInTheDocument());
  });

  it('can be dismissed', async () => {
    const { user, panel } = await openDetail();
    await user.click(within(panel).getByTestId('copy-token'));
    await user.click(await screen.findByTestId('copy-receipt-dismiss'));
    expect(screen.queryByTestId('copy-receipt')).not.toBeInTheDocument();
  });
});

describe('lifecycle events', () => {
  it('a reminder reloads the lists and shows a notice that can be dismissed', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [prodProfile] });
    await screen.findByTestId('profile-item');
    const before = api.listProfiles.mock.calls.length;
    emit.lifecycle({
      type: 'reminder',
      profile_id: 12,
      profile: 'prod',
      tenant: 'acme',
      expires_at: new Date(Date.now() + 10 * 60_000 + 30_000).toISOString(),
      minutes_before: 10,
      expired: false,
    });
    const notice = await screen.findByTestId('lifecycle-notice');
    expect(notice).toHaveTextContent('The token of prod (tenant acme) expires in 10 min');
    expect(api.listProfiles.mock.calls.length).toBeGreaterThan(before);
    await userEvent.setup().click(within(notice).getByTestId('lifecycle-dismiss'));
    expect(screen.queryByTestId('lifecycle-notice')).not.toBeInTheDocument();
  });

  it('a failed renewal is announced with the server’s message, a renewal only reloads', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [prodProfile] });
    await screen.findByTestId('profile-item');
    const before = api.listProfiles.mock.calls.length;
    emit.lifecycle({ type: 'renewed', profile_id: 12, profile: 'prod', expires_at: null });
    await waitFor(() => expect(api.listProfiles.mock.calls.length).toBeGreaterThan(before));
    expect(screen.queryByTestId('lifecycle-notice')).not.toBeInTheDocument();

    emit.lifecycle({
      type: 'renewal-failed',
      profile_id: 12,
      profile: 'prod',
      message: 'cannot reach api.edge.example.com',
      first: true,
      retrying: true,
      cause: 'refused',
    });
    expect(await screen.findByTestId('lifecycle-notice')).toHaveTextContent(
      'Renewing prod (tenant acme) failed: cannot reach api.edge.example.com',
    );
  });

  it('an open detail reloads on a lifecycle event', async () => {
    const { api } = await openDetail();
    const before = api.credential.mock.calls.length;
    emit.lifecycle({ type: 'renewed', profile_id: 12, profile: 'prod', expires_at: null });
    await waitFor(() => expect(api.credential.mock.calls.length).toBeGreaterThan(before));
  });
});
