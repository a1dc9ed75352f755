import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProfileView } from '../src/ipc/api';
import { avassa, credentialOf, edgeProfile, github, prodProfile } from './fixtures';
import { renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const NOW = Date.now();
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (t: number) => new Date(t).toISOString();

afterEach(() => {
  vi.useRealTimers();
});

/** A logged-in profile whose token was issued and expires at these offsets from now. */
const token = (id: number, name: string, issued: number, expires: number | null, extra = {}) =>
  ({
    ...prodProfile,
    id,
    name,
    tenant: null,
    status: 'valid',
    status_label: 'valid',
    renewable: false,
    renew_due_at: null,
    issued_at: iso(NOW + issued),
    expires_at: expires === null ? null : iso(NOW + expires),
    ...extra,
  }) as ProfileView;

const world: ProfileView[] = [
  token(1, 'renews', -2 * HOUR, 6 * HOUR, {
    renewable: true,
    renew_due_at: iso(NOW + 4 * HOUR),
  }),
  token(2, 'pasted', -HOUR, 3 * HOUR),
  token(3, 'gone', -5 * HOUR, -HOUR, { status: 'expired', status_label: 'expired' }),
  token(4, 'broken', -3 * HOUR, 2 * HOUR, {
    status: 'failed',
    status_label: 'renewal failed',
    renewable: true,
    renewal_failed_at: iso(NOW - 30 * MIN),
  }),
  token(5, 'forever', -HOUR, null, { status: 'unknown', status_label: 'no expiry known' }),
  edgeProfile,
];

const rowNames = () =>
  screen.getAllByTestId('timeline-row').map((row) => row.getAttribute('data-profile'));
const row = (name: string) =>
  screen.getAllByTestId('timeline-row').find((r) => r.getAttribute('data-profile') === name)!;

describe('the timeline', () => {
  it('is the first view beyond a handful of profiles; the list stays one click away', async () => {
    renderApp({ servers: [avassa, github], profiles: world });
    await screen.findAllByTestId('timeline-row');
    expect(screen.getByRole('radio', { name: 'Timeline' })).toBeChecked();
    await userEvent.setup().click(screen.getByRole('radio', { name: 'List' }));
    expect(await screen.findAllByTestId('profile-item')).toHaveLength(world.length);
    expect(screen.queryByTestId('timeline')).not.toBeInTheDocument();
  });

  it('a handful of profiles open in the list', async () => {
    renderApp({ servers: [avassa], profiles: world.slice(0, 3) });
    await screen.findAllByTestId('profile-item');
    expect(screen.getByRole('radio', { name: 'List' })).toBeChecked();
  });

  it('lists what needs the user first, marked in words, then by expiry', async () => {
    renderApp({ servers: [avassa, github], profiles: world });
    await screen.findAllByTestId('timeline-row');
    expect(rowNames()).toEqual(['gone', 'broken', 'pasted', 'renews', 'forever', 'edge-alice']);
    for (const name of ['gone', 'broken']) {
      expect(row(name)).toHaveAttribute('data-attention', 'now');
      expect(within(row(name)).getByRole('button')).toHaveAccessibleName(
        expect.stringMatching(/needs you/),
      );
    }
    expect(within(row('pasted')).getByRole('button')).toHaveAccessibleName(
      expect.stringMatching(/^pasted (2 h 59 m|3 h) — valid · expires in (2 h 59 m|3 h)/),
    );
  });

  it('draws bars, the renewal point, reminders and a failed renewal', async () => {
    renderApp({ servers: [avassa, github], profiles: world });
    await screen.findAllByTestId('timeline-row');
    expect(within(row('renews')).getAllByTestId('timeline-renew')).toHaveLength(1);
    expect(within(row('renews')).queryAllByTestId('timeline-reminder')).toHaveLength(0);
    // Reminders 60 and 10 minutes before expiry are on the day axis; 1440 lies before it.
    expect(within(row('pasted')).getAllByTestId('timeline-reminder')).toHaveLength(2);
    expect(within(row('broken')).getAllByTestId('timeline-failed')).toHaveLength(1);
    expect(within(row('edge-alice')).queryByTestId('timeline-bar')).not.toBeInTheDocument();
    expect(row('edge-alice')).toHaveTextContent('not logged in');
  });

  it('zooms to an hour, a week and ten years', async () => {
    renderApp({ servers: [avassa, github], profiles: world });
    const user = userEvent.setup();
    await screen.findAllByTestId('timeline-row');
    const axis = () =>
      Array.from(screen.getByTestId('timeline-axis').querySelectorAll('text')).map(
        (t) => t.textContent,
      );
    expect(screen.getByRole('radio', { name: 'Day' })).toBeChecked();
    await user.click(screen.getByRole('radio', { name: '10 years' }));
    expect(axis()).toContain('10 y');
    expect(screen.getByText('log scale: distance from now')).toBeInTheDocument();
    await user.click(screen.getByRole('radio', { name: 'Hour' }));
    expect(axis().every((label) => /^\d\d:\d0$/.test(label ?? ''))).toBe(true);
    await user.click(screen.getByRole('radio', { name: 'Week' }));
    expect(axis()).toHaveLength(8);
  });

  it('shows a row’s details on hover or focus, and opens the profile on click', async () => {
    renderApp({ servers: [avassa, github], profiles: world });
    const user = userEvent.setup();
    await screen.findAllByTestId('timeline-row');
    const button = within(row('broken')).getByRole('button');
    await fireEvent.mouseMove(button, { clientX: 300, clientY: 40 });
    const card = await screen.findByRole('tooltip');
    expect(card).toHaveTextContent('needs you');
    expect(card).toHaveTextContent('Renewal failed');
    expect(card).toHaveTextContent('30 min ago');
    await fireEvent.mouseLeave(button);
    expect(screen.queryByRole('tooltip')).not.toBeInTheDocument();

    within(row('pasted')).getByRole('button').focus();
    expect(await screen.findByRole('tooltip')).toHaveTextContent(
      'Reminders 24 h, 1 h, 10 min before expiry',
    );
    await user.click(within(row('pasted')).getByRole('button'));
    const detail = await screen.findByTestId('profile-detail');
    expect(detail).toHaveTextContent('pasted');
  });

  it('search narrows the timeline too', async () => {
    renderApp({ servers: [avassa, github], profiles: world });
    const user = userEvent.setup();
    await screen.findAllByTestId('timeline-row');
    await user.type(screen.getByRole('searchbox', { name: 'Search profiles' }), 'status:expired');
    expect(rowNames()).toEqual(['gone']);
  });
});

describe('a profile’s history on its own timeline', () => {
  it('marks each event by its kind beside the list', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [prodProfile] });
    api.credential.mockResolvedValue({
      ...credentialOf(prodProfile),
      history: [
        { at: iso(NOW - 3 * HOUR), event: 'issued', detail: null },
        { at: iso(NOW - 2 * HOUR), event: 'copied', detail: 'token' },
        { at: iso(NOW - HOUR), event: 'renewal-failed', detail: 'sealed' },
        { at: iso(NOW - 30 * MIN), event: 'renewed', detail: null },
      ],
    });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    await waitFor(() => expect(within(panel).getAllByTestId('history-item')).toHaveLength(4));
    const marks = within(panel)
      .getAllByTestId('history-mark')
      .map((m) => m.getAttribute('data-event'));
    expect(marks).toEqual(['issued', 'copied', 'renewal-failed', 'renewed']);
    expect(within(panel).getByRole('img', { name: /token and its history/ })).toBeInTheDocument();
  });
});
